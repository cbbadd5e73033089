//! Authenticated envelopes: with a shared secret (`SOCKEYE_BROKER_SECRET`), every envelope a
//! process publishes carries an HMAC-SHA256 of its content, and envelopes without a valid one
//! are dropped and counted. Without it, anyone who can publish on the broker's channel speaks
//! for the app's processes.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The shortest broker secret accepted.
pub(crate) const MIN_SECRET_BYTES: usize = 32;

/// Hex digits of a MAC.
const MAC_HEX: usize = 64;

/// The key, if the app has one.
#[derive(Clone, Default)]
pub(crate) struct Seal(Option<Hmac<Sha256>>);

impl Seal {
    pub(crate) fn new(secret: Option<&[u8]>) -> Self {
        Self(secret.and_then(|s| Hmac::<Sha256>::new_from_slice(s).ok()))
    }

    pub(crate) fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// The MAC of `parts` (each length-prefixed: no two lists of parts read the same), in hex;
    /// `None` without a key.
    pub(crate) fn mac(&self, parts: &[&str]) -> Option<String> {
        let mut mac = self.0.clone()?;
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        Some(hex(&mac.finalize().into_bytes()))
    }

    /// Whether `mac` is the MAC of `parts` (always true without a key). Constant-time.
    pub(crate) fn verify(&self, parts: &[&str], mac: Option<&str>) -> bool {
        let Some(key) = &self.0 else { return true };
        let Some(bytes) = mac.and_then(unhex) else { return false };
        let mut check = key.clone();
        for part in parts {
            check.update(&(part.len() as u64).to_be_bytes());
            check.update(part.as_bytes());
        }
        check.verify_slice(&bytes).is_ok()
    }

    /// `text` as published: `<mac>.<text>` with a key, as is without.
    pub(crate) fn seal(&self, text: String) -> String {
        match self.mac(&[&text]) {
            Some(mac) => format!("{mac}.{text}"),
            None => text,
        }
    }

    /// The envelope in a payload from the broker. With a key: `Sealed` when its MAC checks,
    /// `Forged` when it has a wrong one, `Bare` when it has none (the broker-numbered history
    /// messages carry theirs inside). Without a key every payload is `Bare`.
    pub(crate) fn open<'a>(&self, payload: &'a str) -> Opened<'a> {
        if self.0.is_none() {
            return Opened::Bare(payload);
        }
        match payload.split_at_checked(MAC_HEX) {
            Some((mac, rest)) if rest.starts_with('.') && mac.bytes().all(|b| b.is_ascii_hexdigit()) => {
                let text = &rest[1..];
                if self.verify(&[text], Some(mac)) { Opened::Sealed(text) } else { Opened::Forged }
            }
            _ => Opened::Bare(payload),
        }
    }
}

pub(crate) enum Opened<'a> {
    Sealed(&'a str),
    Bare(&'a str),
    Forged,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() != MAC_HEX {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_payloads_open_and_tampered_ones_do_not() {
        let seal = Seal::new(Some(b"a broker secret of at least 32 bytes!!"));
        let sealed = seal.seal(r#"{"op":"gone"}"#.to_string());
        assert!(matches!(seal.open(&sealed), Opened::Sealed(t) if t == r#"{"op":"gone"}"#));
        let tampered = sealed.replace("gone", "gon3");
        assert!(matches!(seal.open(&tampered), Opened::Forged));
        assert!(matches!(seal.open(r#"{"op":"gone"}"#), Opened::Bare(_)));
        let other = Seal::new(Some(b"another secret, also 32 bytes long!!!"));
        assert!(matches!(other.open(&sealed), Opened::Forged));
        // Parts are length-prefixed: moving a boundary changes the MAC.
        assert_ne!(seal.mac(&["ab", "c"]), seal.mac(&["a", "bc"]));
        assert!(seal.verify(&["ab", "c"], seal.mac(&["ab", "c"]).as_deref()));
        assert!(!seal.verify(&["ab", "c"], None));
        // Without a key nothing is sealed and everything is bare.
        let off = Seal::default();
        assert_eq!(off.seal("x".into()), "x");
        assert!(off.verify(&["x"], None));
    }
}
