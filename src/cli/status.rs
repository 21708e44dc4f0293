//! `nianbao status`: every agency's standing in a report year.

use std::process::ExitCode;

use nianbao::config::Config;

pub(super) fn status(config: &Config, year: Option<i32>, all: bool, json: bool) -> ExitCode {
    let db = config.data_dir.join(nianbao::store::DB_FILE);
    let store = match nianbao::store::Store::open_read(&db) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            return ExitCode::from(2);
        }
    };
    // The season shown: the coming one once the last one's deadlines have all passed.
    let default = nianbao::season::current(config).report_year();
    let years = if all {
        nianbao::status::years(&store, default)
    } else {
        Ok(vec![year.unwrap_or(default)])
    };
    let overviews: anyhow::Result<Vec<nianbao::status::Status>> = years.and_then(|years| {
        years
            .into_iter()
            .map(|y| nianbao::status::status(&store, config, y))
            .collect()
    });
    let overviews = match overviews {
        Ok(o) => o,
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            return ExitCode::from(2);
        }
    };
    if json {
        let text = if all {
            serde_json::to_string_pretty(&overviews)
        } else {
            serde_json::to_string_pretty(&overviews[0])
        };
        return match text {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("nianbao: {e}");
                ExitCode::from(2)
            }
        };
    }
    for (i, s) in overviews.iter().enumerate() {
        if i > 0 {
            println!();
        }
        if all {
            // Every year is shown: no pointers to the others.
            let mut s = s.clone();
            s.other_years.clear();
            print!("{}", nianbao::status::render(&s));
        } else {
            print!("{}", nianbao::status::render(s));
        }
    }
    ExitCode::SUCCESS
}
