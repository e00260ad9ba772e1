//! Tests of the DNS, HTTP and DHCP decoders (`cargo test --test app`).
//!
//! Corpus tests decode real transport payloads extracted from `/work/shared/corpus/pcaps`
//! (hex files in `tests/fixtures/app/`, origin in its README) and assert the values of the
//! corpus' expected JSON. Adversarial tests and proptests check that hostile input never
//! panics, loops or allocates without bound.

mod dhcp;
mod dns;
mod http;

/// The payload bytes of fixture `name` (`<case>.f<frame>`).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/app/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    hex::decode(text.trim()).unwrap_or_else(|e| panic!("{path}: {e}"))
}
