//! `nianbao rules`: the catalogue of checks.

pub(super) fn print_rules(markdown: bool) {
    let rules = nianbao::rules::all();
    if markdown {
        println!("| id | severity | what | why |");
        println!("|---|---|---|---|");
        for r in rules {
            println!(
                "| `{}` | {} | {} | {} |",
                r.id,
                r.severity.as_str(),
                r.what,
                r.why
            );
        }
    } else {
        for r in rules {
            println!(
                "{:<34} {:<8} {}\n{:<43} 依据：{}",
                r.id,
                r.severity.as_str(),
                r.what,
                "",
                r.why
            );
        }
    }
}
