fn main() {
    runit::msg::fatal("utmpset", 100, &["not built yet"]);
}
