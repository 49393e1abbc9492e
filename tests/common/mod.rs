//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The official CACAO examples in ../shared; fails with a message naming what is missing.
pub fn examples_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cacao/examples");
    assert!(
        dir.is_dir(),
        "missing {}: these tests need the read-only ../shared folder beside the repository (shared/cacao/examples)",
        dir.display()
    );
    dir
}

/// Every example as (file name, bytes), sorted by name.
pub fn examples() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(examples_dir())
        .expect("list examples")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).expect("read example")))
        .collect();
    out.sort();
    assert_eq!(out.len(), 18, "expected the 18 CACAO examples in ../shared/cacao/examples");
    out
}

/// Runs the built binary from the repository root.
pub fn run_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cacao-forge"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cacao-forge")
}

/// Runs the binary: (exit code, stdout, stderr).
pub fn cli(args: &[&str]) -> (i32, String, String) {
    let out = run_cli(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
pub mod exec;
