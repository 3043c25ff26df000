fn main() {
    runit::msg::fatal("runsvdir", 100, &["not built yet"]);
}
