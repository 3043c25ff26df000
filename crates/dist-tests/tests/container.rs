//! The container recipe as shipped: the README and docs/container.md show
//! examples/container/Containerfile itself (dist/container-test builds that
//! file under podman), and the files it copies are in the repository.

mod common;

use std::fs;

fn dockerfile_block(md: &str) -> String {
    let start = md.find("```dockerfile\n").expect("a dockerfile block") + "```dockerfile\n".len();
    let len = md[start..].find("```").expect("end of the block");
    md[start..start + len].to_string()
}

#[test]
fn readme_and_docs_show_the_shipped_containerfile() {
    let top = testkit::workspace_root();
    let file = fs::read_to_string(top.join("examples/container/Containerfile")).unwrap();
    for doc in ["README.md", "docs/container.md"] {
        let md = fs::read_to_string(top.join(doc)).unwrap();
        assert_eq!(dockerfile_block(&md), file, "{doc}");
    }
    // no heredoc: Debian's podman (buildah) cannot build one
    assert!(!file.contains("<<"), "{file}");
    for line in file.lines().filter(|l| l.starts_with("COPY ")) {
        let src = line.split_whitespace().nth(1).unwrap();
        if !src.starts_with("--") {
            assert!(
                top.join(src).exists(),
                "{line}: {src} is not in the repository"
            );
        }
    }
}

#[test]
fn shipped_scripts_are_executable() {
    use std::os::unix::fs::PermissionsExt;
    let top = testkit::workspace_root();
    for f in [
        "examples/container/ticker/run",
        "examples/container/job-stage2",
        "dist/oci-bundle",
        "dist/container-test",
    ] {
        let mode = fs::metadata(top.join(f)).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "{f}");
    }
}
