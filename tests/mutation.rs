//! Mutation tests of the rule catalogue: valid generated reports in every layout raise no
//! finding; each single defect raises exactly the intended rule(s) at the intended place.

mod support;

use nianbao::report::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::mutations::{Found, check, found, mutations};
use support::{Layout, random_report};

#[test]
fn each_defect_raises_exactly_its_rule_in_every_layout() {
    let base: u64 = std::env::var("NIANBAO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let mut rng = StdRng::seed_from_u64(base);
    let mut clean = 0;
    let mut mutated = 0;
    for layout in Layout::ALL {
        for template in [Template::V2021, Template::V2019] {
            for m in mutations().iter().filter(|m| (m.applies)(template)) {
                for i in 0..3 {
                    let mut report = random_report(&mut rng, template);
                    let seed = rng.random();
                    let ctx = format!("seed {base}: {} ({layout:?}, {template:?}, #{i})", m.name);
                    // No false alarm on the valid report…
                    let before = check(&report, layout, vec![], seed);
                    assert_eq!(found(&before), Vec::<Found>::new(), "{ctx}: valid report");
                    clean += 1;
                    // …and exactly the intended finding once the defect is in.
                    let (defects, mut expected) = (m.apply)(&mut report, &mut rng);
                    expected.sort();
                    let after = check(&report, layout, defects, seed);
                    assert_eq!(found(&after), expected, "{ctx}");
                    mutated += 1;
                }
            }
        }
    }
    assert!(
        clean >= 300 && mutated >= 300,
        "{clean} clean, {mutated} mutated"
    );
}
