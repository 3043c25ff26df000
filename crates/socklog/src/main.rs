fn main() {
    runit::msg::fatal("socklog", 100, &["not built yet"]);
}
