//! The firmware example on an emulated Cortex-M4F must reach bit-identical decisions to the host.
//!
//! Builds `core/firmware` for `thumbv7em-none-eabihf` (its own target directory, so the inner cargo
//! never waits on the outer one's lock), boots it in `qemu-system-arm`, reads the digest it prints over
//! semihosting and compares it with `maestro_core::replay::demo_digest` computed here. A missing QEMU or
//! Rust target fails the test and names what is missing: it never skips.

use maestro_core::replay::demo_digest;
use maestro_core::{Guards, Mode, Params};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const TARGET: &str = "thumbv7em-none-eabihf";
/// Generous: the run itself takes well under a second, but the machine is shared.
const QEMU_TIMEOUT: Duration = Duration::from_secs(120);

/// The runs the firmware makes, in its order (keep in step with `core/firmware/src/main.rs`).
const SEED: u64 = 0x4d41_4553_5452_4f21;
const CANDLES: usize = 100_000;
const CAP: usize = 64;

fn params(guards: Guards) -> Params {
    Params {
        short_window: 10,
        long_window: 50,
        mode: Mode::LongShort,
        qty: 1000,
        lot_size: 1000,
        max_position: 1000,
        bin_ms: 60_000,
        guards,
    }
}

fn runs() -> [(&'static str, Params); 2] {
    [
        ("plain", params(Guards::default())),
        (
            "guarded",
            params(Guards {
                hysteresis_bp: 5,
                confirm_bars: 2,
                min_hold_bars: 3,
            }),
        ),
    ]
}

fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/firmware")
}

fn require_qemu() {
    match Command::new("qemu-system-arm").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "qemu-system-arm --version failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "qemu-system-arm is missing ({e}); run .ci/setup, which installs Debian's qemu-system-arm"
        ),
    }
}

fn require_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {rustc} --print sysroot: {e}"));
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let lib = Path::new(&sysroot).join("lib/rustlib").join(TARGET);
    assert!(
        lib.is_dir(),
        "Rust target {TARGET} is missing ({} does not exist); run .ci/setup, which runs \
         `rustup target add {TARGET}`",
        lib.display()
    );
}

/// `cargo build --release` of the firmware, in its own target directory; returns the ELF.
fn build_firmware() -> PathBuf {
    let dir = firmware_dir();
    let target_dir = dir.join("target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .current_dir(&dir)
        .args([
            "build",
            "--release",
            "--locked",
            "--bin",
            "maestro-firmware",
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
        // Flags meant for the host build would replace the firmware's own (`-Tlink.x`).
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cargo}: {e}"));
    assert!(
        out.status.success(),
        "building the firmware in {} failed ({}):\n{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let elf = target_dir.join(TARGET).join("release/maestro-firmware");
    assert!(elf.is_file(), "the build did not produce {}", elf.display());
    elf
}

/// Boots the ELF and returns (exit status, everything it printed).
fn run_in_qemu(elf: &Path) -> (ExitStatus, String) {
    let mut child = Command::new("qemu-system-arm")
        .args(["-cpu", "cortex-m4", "-machine", "mps2-an386", "-nographic"])
        .args(["-monitor", "none", "-serial", "null"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start qemu-system-arm: {e}"));
    let stdout = drain(&mut child, true);
    let stderr = drain(&mut child, false);
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > QEMU_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the firmware did not exit within {QEMU_TIMEOUT:?}; output so far:\n{}",
                    stdout.join().unwrap_or_default()
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for qemu-system-arm: {e}"),
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    (status, format!("{out}{err}"))
}

/// Reads a child's pipe on a thread so a chatty program cannot block on a full pipe.
fn drain(child: &mut Child, stdout: bool) -> std::thread::JoinHandle<String> {
    let mut pipe: Box<dyn Read + Send> = if stdout {
        Box::new(child.stdout.take().expect("stdout is piped"))
    } else {
        Box::new(child.stderr.take().expect("stderr is piped"))
    };
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// The value of `key=` on the line that starts with `run=<name>`.
fn field<'a>(output: &'a str, run: &str, key: &str) -> &'a str {
    let prefix = format!("run={run} ");
    let line = output
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| {
            panic!("the firmware printed no `{prefix}...` line; it printed:\n{output}")
        });
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no `{key}=` in the firmware's line `{line}`"))
}

#[test]
fn firmware_digest_under_qemu_equals_the_host_digest() {
    require_qemu();
    require_target();
    let elf = build_firmware();
    let (status, output) = run_in_qemu(&elf);
    assert!(
        status.success(),
        "the firmware exited with {status} (semihosting exit code); it printed:\n{output}"
    );

    for (name, params) in runs() {
        let (digest, signals) = demo_digest::<CAP>(params, SEED, CANDLES)
            .unwrap_or_else(|e| panic!("host demo_digest for run {name} failed: {e}"));
        // A replay that never signals would make equal digests prove little.
        assert!(
            signals > 0,
            "run {name}: the demo market produced no signal on the host"
        );
        let expected = [
            ("seed", format!("{SEED:#018x}")),
            ("candles", CANDLES.to_string()),
            ("short", params.short_window.to_string()),
            ("long", params.long_window.to_string()),
            ("hysteresis_bp", params.guards.hysteresis_bp.to_string()),
            ("confirm_bars", params.guards.confirm_bars.to_string()),
            ("min_hold_bars", params.guards.min_hold_bars.to_string()),
            ("digest", format!("{digest:#018x}")),
            ("signals", signals.to_string()),
        ];
        for (key, want) in expected {
            assert_eq!(
                field(&output, name, key),
                want,
                "run {name}: firmware's {key} (left) differs from the host's (right); firmware printed:\n{output}"
            );
        }
    }
}
