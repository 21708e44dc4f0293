#[test]
fn dump() {
    let path = std::env::var("DUMP").unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let ex = nianbao::extract::extract(&bytes, &path).unwrap();
    for b in &ex.blocks {
        match b {
            nianbao::extract::Block::Text { text, .. } => println!("T: {text}"),
            nianbao::extract::Block::Table { rows } => {
                println!("TABLE");
                for r in rows {
                    println!(
                        "  | {}",
                        r.iter()
                            .map(|c| format!("{}@{}", c.text, c.at.cell().unwrap_or_default()))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    );
                }
            }
        }
    }
}
