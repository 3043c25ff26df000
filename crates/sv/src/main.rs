fn main() {
    runit::msg::fatal("sv", 100, &["not built yet"]);
}
