//! The daemon reloads its indicators on SIGHUP without stopping capture: `phonehome run` on the
//! loopback interface with an indicator file, the file changed, SIGHUP, and the log shows the
//! new count; SIGTERM still ends it cleanly. Needs root (AF_PACKET); skips otherwise.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

#[test]
fn sighup_reloads_indicators_while_capturing() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: capturing on an interface needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ioc = dir.path().join("indicators.txt");
    std::fs::write(&ioc, "evil-one.example\n").unwrap();
    let cfg = dir.path().join("phonehome.toml");
    std::fs::write(&cfg, "[ioc]\npaths = [\"indicators.txt\"]\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_phonehome"))
        .arg("--config")
        .arg(&cfg)
        .arg("--db")
        .arg(dir.path().join("t.db"))
        .args(["-v", "run", "--iface", "lo"])
        .env("PHONEHOME_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = Pid::from_raw(child.id() as i32);
    std::thread::sleep(Duration::from_millis(1500));
    std::fs::write(
        &ioc,
        "evil-one.example\nevil-two.example\nevil-three.example\n",
    )
    .unwrap();
    kill(pid, Signal::SIGHUP).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    kill(pid, Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("daemon did not stop within 10 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(status.success(), "exit {status}; log:\n{log}");
    assert!(
        log.contains("indicators loaded") && log.contains("indicators=1"),
        "first load of 1 indicator not logged:\n{log}"
    );
    assert!(
        log.contains("indicators reloaded") && log.contains("indicators=3"),
        "SIGHUP reload to 3 indicators not logged:\n{log}"
    );
}
