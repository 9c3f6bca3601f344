//! An emit is all or nothing per network (specs/language.md, "Outputs"):
//! the ONNX file, the certificate and the VNN-LIB folder are renamed into
//! place together, after the checker has confirmed the certificates, or not
//! at all; a failure leaves the older outputs byte-identical and no
//! temporary behind. And one radius per network: the summary, `--json`, the
//! ONNX metadata and the certificate state the same certified radius.

mod support;

use robmem::backend::onnx::read_onnx_file;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

fn robmem(args: &[&str], dir: &Path) -> Output {
    support::robmem_in(dir, args)
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("robmem exited normally")
}

/// Every file under `dir` with its bytes, by path relative to `dir`.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                into.insert(path.strip_prefix(root).unwrap().to_path_buf(), Vec::new());
                walk(root, &path, into);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                into.insert(path.strip_prefix(root).unwrap().to_path_buf(), bytes);
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

fn hidden(files: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<&PathBuf> {
    files
        .keys()
        .filter(|p| {
            p.components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        })
        .collect()
}

const DATA: &str =
    "dataset pts = blobs(points = 40, dim = 3, labels = 2, spread = 0.2, seed = 5)\n";

fn spec(radius: &str, vnnlib: &str) -> String {
    format!(
        "{DATA}network net {{ data = pts  norm = linf  radius = {radius} }}\n\
         emit net {{ onnx = \"out/net.onnx\"  certificate = \"out/net.cert.json\"  vnnlib = \"{vnnlib}\"  unsafe = 2 }}\n"
    )
}

#[test]
fn a_complete_emit_writes_everything_with_no_temporaries_and_certificates_verify() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.rmem"), spec("0.5 of limit", "out/inst")).unwrap();
    let out = robmem(&["-q", "compile", "s.rmem", "--json"], dir.path());
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let files = snapshot(dir.path());
    for expected in [
        "out/net.onnx",
        "out/net.cert.json",
        "out/inst/instances.csv",
        "out/inst/net.cert.json",
        "out/inst/onnx/net.onnx",
    ] {
        assert!(
            files.contains_key(Path::new(expected)),
            "{expected} missing"
        );
    }
    assert!(
        hidden(&files).is_empty(),
        "temporaries left: {:?}",
        hidden(&files)
    );
    for cert in ["out/net.cert.json", "out/inst/net.cert.json"] {
        let verified = robmem(&["-q", "verify", cert], dir.path());
        assert_eq!(
            code(&verified),
            0,
            "{cert}: {}",
            String::from_utf8_lossy(&verified.stdout)
        );
    }
    // The folder's ONNX copy is the emitted file, byte for byte.
    assert_eq!(
        files[Path::new("out/net.onnx")],
        files[Path::new("out/inst/onnx/net.onnx")]
    );
}

#[test]
fn a_failure_after_staging_leaves_the_older_outputs_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.rmem"), spec("0.5 of limit", "out/inst")).unwrap();
    assert_eq!(code(&robmem(&["-q", "compile", "s.rmem"], dir.path())), 0);
    // A regular file where the VNN-LIB folder's parent should be: the ONNX
    // file and the certificate are staged first, then the folder fails.
    std::fs::write(dir.path().join("blocker"), "a user's file").unwrap();
    std::fs::write(
        dir.path().join("s.rmem"),
        spec("0.3 of limit", "blocker/inst"),
    )
    .unwrap();
    let before = snapshot(dir.path());
    let out = robmem(&["-q", "compile", "s.rmem"], dir.path());
    assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("blocker"),
        "the message names the path: {stderr}"
    );
    let after = snapshot(dir.path());
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    assert!(
        before == after,
        "an output changed although the emit failed"
    );
}

#[test]
fn a_failed_certificate_writes_nothing_for_its_network() {
    // One label: there is no robustness to certify, so an emit block that
    // asks for a certificate cannot be honoured, and nothing is written.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old.onnx"), "a model from before").unwrap();
    let text = "dataset one {\n  [0, 0] -> 1\n  [1, 1] -> 1\n}\n\
                network lone { data = one  norm = l2  radius = 1.0 }\n\
                emit lone { onnx = \"old.onnx\"  certificate = \"old.cert.json\" }\n";
    std::fs::write(dir.path().join("s.rmem"), text).unwrap();
    let before = snapshot(dir.path());
    let out = robmem(&["-q", "compile", "s.rmem"], dir.path());
    if code(&out) == 0 {
        // A build that certifies single-label networks must write both.
        let after = snapshot(dir.path());
        assert!(after.contains_key(Path::new("old.cert.json")));
        let verified = robmem(&["-q", "verify", "old.cert.json"], dir.path());
        assert_eq!(code(&verified), 0);
    } else {
        assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
        assert!(
            snapshot(dir.path()) == before,
            "a failed emit changed the folder"
        );
    }
}

#[test]
fn summary_metadata_and_certificate_state_one_radius() {
    for radius in ["max", "0.45 of limit"] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.rmem"), spec(radius, "out/inst")).unwrap();
        let out = robmem(&["-q", "compile", "s.rmem", "--json"], dir.path());
        assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
        let summary: serde_json::Value =
            serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
        let radius_json = summary["radius"].as_f64().unwrap();
        assert_eq!(summary["certified_radius"].as_f64(), Some(radius_json));
        let arithmetics = summary["arithmetics"].as_array().unwrap();
        assert!(arithmetics.iter().any(|a| a == "real"), "{arithmetics:?}");
        let cert: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("out/net.cert.json")).unwrap())
                .unwrap();
        assert_eq!(
            cert["radius"].as_f64(),
            Some(radius_json),
            "radius = {radius}"
        );
        assert_eq!(&cert["semantics"], &summary["arithmetics"]);
        let (_, meta) = read_onnx_file(&dir.path().join("out/net.onnx")).unwrap();
        let stored: f64 = meta.property("robmem.radius").unwrap().parse().unwrap();
        assert_eq!(stored, radius_json, "radius = {radius}");
    }
}

/// Runs `compile` on `spec_text` (as `s.rmem` in a fresh folder that also
/// holds a user's file and folder) and asserts a refusal with exit 2 whose
/// message contains every `phrase`, with every file byte-identical.
fn assert_refused(spec_text: &str, extra_args: &[&str], phrases: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("inner");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("s.rmem"), spec_text).unwrap();
    std::fs::write(work.join("notes.txt"), "a user's file").unwrap();
    std::fs::write(work.join("afile"), "another user's file").unwrap();
    std::fs::create_dir(work.join("mine")).unwrap();
    std::fs::write(work.join("mine/keep.txt"), "kept").unwrap();
    let before = snapshot(dir.path());
    let mut args = vec!["-q", "compile", "s.rmem"];
    args.extend_from_slice(extra_args);
    let out = robmem(&args, &work);
    let stderr = String::from_utf8_lossy(&out.stderr)
        .replace(['│', '·', '╭', '╰', '─', '┬'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(code(&out), 2, "{spec_text}\n{stderr}");
    for phrase in phrases {
        assert!(stderr.contains(phrase), "`{phrase}` not in: {stderr}");
    }
    assert!(
        snapshot(dir.path()) == before,
        "a refused run changed files:\n{spec_text}"
    );
}

fn network_with(emit: &str) -> String {
    format!("{DATA}network net {{ data = pts  norm = linf  radius = 0.5 of limit }}\n{emit}\n")
}

#[test]
fn an_output_that_is_the_spec_or_holds_it_is_refused() {
    assert_refused(
        &network_with("emit net { vnnlib = \"../inner\" }"),
        &[],
        &["contains the input", "s.rmem"],
    );
    assert_refused(
        &network_with("emit net { vnnlib = \".\" }"),
        &[],
        &["contains the input"],
    );
    assert_refused(
        &network_with("emit net { onnx = \"s.rmem\" }"),
        &[],
        &["is the input"],
    );
}

#[test]
fn colliding_outputs_are_refused_naming_both_lines() {
    assert_refused(
        &network_with("emit net { onnx = \"x.onnx\"  certificate = \"x.onnx\" }"),
        &[],
        &["write to the same place", "line 3"],
    );
    let two = format!(
        "{DATA}network a {{ data = pts  norm = linf  radius = 0.5 of limit }}\n\
         network b {{ data = pts  norm = l2  radius = 0.5 of limit }}\n\
         emit a {{ onnx = \"same.onnx\" }}\n\
         emit b {{ onnx = \"same.onnx\" }}\n"
    );
    assert_refused(&two, &[], &["write to the same place", "line 4", "line 5"]);
    assert_refused(
        &network_with("emit net { onnx = \"inst/net.onnx\"  vnnlib = \"inst\" }"),
        &[],
        &["write to the same place"],
    );
}

#[test]
fn a_users_file_or_folder_is_never_replaced() {
    assert_refused(
        &network_with("emit net { vnnlib = \"afile\" }"),
        &[],
        &["did not make", "afile"],
    );
    assert_refused(
        &network_with("emit net { vnnlib = \"mine\" }"),
        &[],
        &["did not make", "folder.json"],
    );
    assert_refused(
        &network_with("emit net { onnx = \"mine\" }"),
        &[],
        &["a folder is there"],
    );
}

#[test]
fn out_dir_is_never_escaped() {
    assert_refused(
        &network_with("emit net { onnx = \"../x.onnx\" }"),
        &["--out", "o"],
        &["outside --out"],
    );
    assert_refused(
        &network_with("emit net { onnx = \"/tmp/robmem-escape-test.onnx\" }"),
        &["--out", "o"],
        &["outside --out"],
    );
}

#[test]
fn a_folder_robmem_made_is_replaced_on_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let text = network_with("emit net { vnnlib = \"inst\"  unsafe = 1 }");
    std::fs::write(dir.path().join("s.rmem"), &text).unwrap();
    assert_eq!(code(&robmem(&["-q", "compile", "s.rmem"], dir.path())), 0);
    assert!(dir.path().join("inst/robmem-folder.json").is_file());
    std::fs::write(dir.path().join("inst/stale.txt"), "from before").unwrap();
    let out = robmem(&["-q", "compile", "s.rmem"], dir.path());
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.path().join("inst/stale.txt").exists());
    assert!(hidden(&snapshot(dir.path())).is_empty());
}

/// An interrupt while the outputs are being written (SIGINT, as Ctrl-C sends)
/// exits with 130 and removes the temporaries and the folders robmem made
/// for them, leaving the folder as it was. The signal is sent when a
/// temporary first appears; the 4,000-file VNN-LIB folder keeps the process
/// writing well after that, and a run that finishes first anyway is retried.
#[test]
fn an_interrupt_while_writing_removes_temporaries_and_the_folders_made_for_them() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sig.rmem"),
        "dataset big = blobs(points = 4000, dim = 20, labels = 5, seed = 3)\n\
         network big_net { data = big  norm = l2  radius = 0.5 of limit  construction = scores }\n\
         emit big_net { onnx = \"made/deeper/net.onnx\"  vnnlib = \"made/deeper/props\" }\n",
    )
    .unwrap();
    let before = snapshot(dir.path());
    let writing = |dir: &Path| {
        std::fs::read_dir(dir.join("made/deeper")).is_ok_and(|mut entries| {
            entries.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".tmp")))
        })
    };
    for attempt in 0..3 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_robmem"))
            .args(["compile", "sig.rmem", "--quiet"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while !writing(dir.path()) && start.elapsed() < Duration::from_secs(120) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        if sent.success() && status.code() == Some(130) {
            assert_eq!(snapshot(dir.path()), before, "attempt {attempt}");
            return;
        }
        // The run ended before the signal: start again from a clean folder.
        assert_eq!(status.code(), Some(0), "attempt {attempt}");
        std::fs::remove_dir_all(dir.path().join("made")).unwrap();
    }
    panic!("three runs finished before the interrupt reached them");
}
