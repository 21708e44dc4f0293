//! The one configuration handle of the running daemon: every part (pipeline, mail,
//! reminders, the web console) reads the configuration through a clone of it, and a reload
//! (SIGHUP, `systemctl reload`) swaps it for all of them at once. Before, the console kept
//! the configuration it was started with: a new agency's page was 404 and a review decision
//! went to an agency's old address.

use std::sync::{Arc, RwLock};

use crate::config::Config;

#[derive(Clone)]
pub struct SharedConfig(Arc<RwLock<Arc<Config>>>);

impl SharedConfig {
    pub fn new(config: Config) -> SharedConfig {
        SharedConfig(Arc::new(RwLock::new(Arc::new(config))))
    }

    /// The configuration in force now (a reload does not change a copy already taken).
    pub fn get(&self) -> Arc<Config> {
        // A panic while swapping left either the old or the new configuration, both whole.
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts `config` in force for every holder of this handle.
    pub fn replace(&self, config: Config) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
    }
}
