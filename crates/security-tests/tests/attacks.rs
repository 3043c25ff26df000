//! Each attack of docs/security.md against Debian's programs and ours, as
//! root with the attacker as nobody; prints the table (and writes it to
//! `$SECURITY_TABLE` for scripts/security-table). Ours must keep every
//! attacker out. About a minute: each attack waits for real programs.

#[test]
fn no_way_in_for_nobody() {
    let rows = security_tests::run_all();
    let table = security_tests::table(&rows);
    println!("\n{table}");
    if let Some(path) = std::env::var_os("SECURITY_TABLE") {
        std::fs::write(path, &table).expect("write the table");
    }
    let ours: Vec<_> = rows
        .iter()
        .filter(|r| r.outcomes[1].got_in)
        .map(|r| format!("{}: {}", r.name, r.outcomes[1].seen))
        .collect();
    assert!(ours.is_empty(), "ways in for ours:\n{}", ours.join("\n"));
}
