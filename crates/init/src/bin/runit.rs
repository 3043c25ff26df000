fn main() {
    runit::msg::fatal("runit", 100, &["not built yet"]);
}
