fn main() {
    runit::msg::fatal("chpst", 100, &["not built yet"]);
}
