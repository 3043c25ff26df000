fn main() {
    runit::msg::fatal("runsv", 100, &["not built yet"]);
}
