//! CLI output of listings: JSON lines, the aligned table, broken pipes.

use phonehome::cli::output;
use phonehome::decode::dhcp as dhcpd;
use phonehome::event::Event;
use phonehome::store::{self, query, Filter, Kind};

use super::corpus::*;

#[test]
fn json_lines_and_table_output() {
    let (_d, p) = db();
    let mut dhcp = corpus_dhcp();
    dhcp[0].hostname = Some("evil\x1b]0;owned\x07-host-with-a-very-long-name".into());
    write(&p, dhcp.into_iter().take(2).map(Event::Dhcp).collect());
    let conn = store::open_read(&p).expect("open");

    let mut out = Vec::new();
    let n = query::each(&conn, Kind::Dhcp, &Filter::default(), |it| {
        output::print_json(&mut out, it)
    })
    .expect("query")
    .expect("print");
    assert_eq!(n, 2);
    let text = String::from_utf8(out).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with(
            r#"{"ts":"2004-12-05T19:16:24.317453Z","device_mac":"00:0b:82:01:fc:42","#
        ),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains(r#""hostname":"evil\u001b]0;owned\u0007-host-with-a-very-long-name""#)
    );

    let mut out = Vec::new();
    query::each(&conn, Kind::Dhcp, &Filter::default(), |it| {
        output::print_table(&mut out, Kind::Dhcp, it)
    })
    .expect("query")
    .expect("print");
    let text = String::from_utf8(out).expect("utf8");
    let t = dhcpd::msg_type_name(1);
    let w = t.len().max(8);
    let expected = format!(
        "{:27}  {:17}  {:w$}  {:24}  vendor_class  {:12}  param_list\n\
         {:27}  {:17}  {:w$}  {:24}  -             {:12}  1,3,6,42\n\
         {:27}  {:17}  {:w$}  {:24}  -             {:12}  -\n2 records\n",
        "ts",
        "device_mac",
        "msg_type",
        "hostname",
        "requested_ip",
        "2004-12-05T19:16:24.317453Z",
        LAPTOP,
        t,
        "evil\\x1b]0;owned\\x07-ho…",
        "0.0.0.0",
        "2004-12-05T19:16:24.317748Z",
        LAPTOP,
        dhcpd::msg_type_name(2),
        "-",
        "-",
    );
    assert_eq!(text, expected);
}

/// A reader that went away (`phonehome dns | head`).
struct ClosedPipe;
impl std::io::Write for ClosedPipe {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::BrokenPipe.into())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn broken_pipe_is_returned_for_the_caller() {
    let (_d, p) = db();
    write(&p, all_events());
    let conn = store::open_read(&p).expect("open");
    for table in [false, true] {
        let res = query::each(&conn, Kind::Dns, &Filter::default(), |it| {
            if table {
                output::print_table(&mut ClosedPipe, Kind::Dns, it)
            } else {
                output::print_json(&mut ClosedPipe, it)
            }
        })
        .expect("query");
        let err = res.expect_err("write to a closed pipe succeeded");
        assert!(output::is_broken_pipe(&err));
    }
}
