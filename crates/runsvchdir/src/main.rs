fn main() {
    runit::msg::fatal("runsvchdir", 100, &["not built yet"]);
}
