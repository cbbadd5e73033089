//! A test certificate authority made by `openssl` for each run, and server certificates it
//! signed for 127.0.0.1 and localhost.
#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// A directory with a CA (`ca.pem`), and server certificates signed by it for 127.0.0.1 and
/// localhost: `first` and `second`, told apart by their common names.
pub(crate) struct Pki(PathBuf);

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

impl Pki {
    pub(crate) fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("sockeye-pki-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=sockeye test CA",
            ],
        );
        std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
            .unwrap();
        for name in ["first", "second"] {
            let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
            openssl(
                &dir,
                &[
                    "req",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-nodes",
                    "-keyout",
                    &key,
                    "-out",
                    &csr,
                    "-subj",
                    &format!("/CN={name}"),
                ],
            );
            openssl(
                &dir,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-out",
                    &pem,
                    "-days",
                    "2",
                    "-extfile",
                    "san.ext",
                ],
            );
        }
        Self(dir)
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.0
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Puts `name`'s pair where the server reads its certificate.
    pub(crate) fn install(&self, name: &str) {
        // Written aside and renamed, as certbot and cert-manager do: never half a file.
        for (from, to) in [(format!("{name}.pem"), "live.pem"), (format!("{name}.key"), "live.key")] {
            std::fs::copy(self.path(&from), self.path(&format!("{to}.tmp"))).unwrap();
            std::fs::rename(self.path(&format!("{to}.tmp")), self.path(to)).unwrap();
        }
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
