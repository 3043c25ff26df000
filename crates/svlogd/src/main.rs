fn main() {
    runit::msg::fatal("svlogd", 100, &["not built yet"]);
}
