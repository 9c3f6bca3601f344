//! Progress bars and `--quiet`, running the binary with standard error piped
//! (not a terminal): no bar or spinner is ever drawn, `--quiet` silences
//! `note:` lines, and errors are printed whatever the flag.

use std::path::Path;
use std::process::{Command, Output};

fn robmem(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_robmem"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run robmem")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A spec large enough to go through every hooked phase (loading,
/// separation, projection search, lowering, writing), whose network has no
/// `emit` block (a `note:` without `--out`).
const SPEC: &str = "\
dataset cloud = blobs(points = 400, dim = 20, labels = 4, spread = 0.3, seed = 3)

network cloud_net {
    data   = cloud
    norm   = l2
    radius = 0.5 of limit
}
";

/// Characters of indicatif's default and robmem's bars and spinners, and the
/// terminal escape that redraws a line.
const BAR_CHARS: [&str; 6] = ["█", "░", "⠁", "⠂", "\x1b[", "\r"];

fn write_spec(dir: &Path, text: &str) -> String {
    let path = dir.join("spec.rmem");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn quiet_compile_prints_nothing_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), SPEC);
    let loud = robmem(&["compile", &spec], dir.path());
    assert_eq!(loud.status.code(), Some(0), "{}", text(&loud.stderr));
    assert!(
        text(&loud.stderr).contains("note: network `cloud_net` has no `emit` block"),
        "{}",
        text(&loud.stderr)
    );
    let quiet = robmem(&["--quiet", "compile", &spec], dir.path());
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(text(&quiet.stderr), "");
    assert!(
        text(&quiet.stdout).contains("cloud_net"),
        "--quiet keeps the summary on stdout"
    );
    // The flag is global: also accepted after the subcommand.
    let after = robmem(&["compile", &spec, "-q", "--json"], dir.path());
    assert_eq!(after.status.code(), Some(0));
    assert_eq!(text(&after.stderr), "");
    assert!(text(&after.stdout).contains("\"network\":\"cloud_net\""));
}

#[test]
fn piped_stderr_shows_no_bars() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), SPEC);
    let out_dir = dir.path().join("out");
    for args in [
        vec!["check", spec.as_str()],
        vec!["compile", spec.as_str(), "--out", out_dir.to_str().unwrap()],
    ] {
        let out = robmem(&args, dir.path());
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        for c in BAR_CHARS {
            assert!(!stderr.contains(c), "{args:?}: {c:?} in stderr {stderr:?}");
        }
    }
    assert!(out_dir.join("cloud_net.onnx").is_file());
}

#[test]
fn quiet_check_silences_notes_but_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data_only = write_spec(dir.path(), "dataset d { [0] -> 0  [1] -> 1 }\n");
    let loud = robmem(&["check", &data_only], dir.path());
    assert!(
        text(&loud.stderr).contains("note:"),
        "{}",
        text(&loud.stderr)
    );
    let quiet = robmem(&["check", "--quiet", &data_only], dir.path());
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(text(&quiet.stderr), "");

    let broken = write_spec(dir.path(), "network n { data = missing }\n");
    let quiet = robmem(&["--quiet", "check", &broken], dir.path());
    assert_eq!(quiet.status.code(), Some(1));
    assert!(
        text(&quiet.stderr).contains("missing"),
        "{}",
        text(&quiet.stderr)
    );
}

#[test]
fn help_documents_quiet() {
    let out = robmem(&["--help"], Path::new("."));
    assert!(text(&out.stdout).contains("--quiet"));
}
