fn main() {
    runit::msg::fatal("runit-init", 100, &["not built yet"]);
}
