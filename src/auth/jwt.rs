//! JSON Web Tokens through `jsonwebtoken` (cargo feature `jwt`): the keys, strict
//! validation, and signing for [`TokenBuilder`](super::TokenBuilder).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde_json::Value;

use super::AuthError;

/// The keys of one algorithm: the key that checks tokens, and the one that signs them when
/// the app issues tokens too.
#[derive(Clone)]
pub(super) struct Keys {
    algorithm: Algorithm,
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
}

/// What a token must say besides a good signature.
pub(super) struct Rules<'a> {
    pub(super) issuer: Option<&'a str>,
    pub(super) audience: Option<&'a str>,
    pub(super) leeway: u64,
}

impl Keys {
    /// HS256: one secret checks and signs.
    pub(super) fn hs256(secret: &[u8]) -> Self {
        Self {
            algorithm: Algorithm::HS256,
            decoding: DecodingKey::from_secret(secret),
            encoding: Some(EncodingKey::from_secret(secret)),
        }
    }

    /// RS256 for an RSA public key, ES256 for a P-256 one.
    pub(super) fn public_pem(pem: &[u8]) -> Result<Self, AuthError> {
        let (algorithm, decoding) = match DecodingKey::from_rsa_pem(pem) {
            Ok(key) => (Algorithm::RS256, key),
            Err(_) => match DecodingKey::from_ec_pem(pem) {
                Ok(key) => (Algorithm::ES256, key),
                Err(e) => return Err(AuthError::Key(format!("not an RSA or EC public key in PEM: {e}"))),
            },
        };
        Ok(Self { algorithm, decoding, encoding: None })
    }

    /// Adds the private key matching the public one.
    pub(super) fn signing_pem(&mut self, pem: &[u8]) -> Result<(), AuthError> {
        let key = match self.algorithm {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(pem),
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem),
            _ => return Err(AuthError::Key("a signing key needs a public key configured first".into())),
        }
        .map_err(|e| AuthError::Key(format!("bad PEM private key: {e}")))?;
        self.encoding = Some(key);
        Ok(())
    }

    pub(super) fn algorithm(&self) -> &'static str {
        match self.algorithm {
            Algorithm::HS256 => "HS256",
            Algorithm::RS256 => "RS256",
            Algorithm::ES256 => "ES256",
            _ => "other",
        }
    }

    /// The claims of `token` when its signature, algorithm, times, issuer and audience hold.
    pub(super) fn verify(&self, token: &str, rules: &Rules<'_>) -> Result<Value, AuthError> {
        let data =
            jsonwebtoken::decode::<Value>(token, &self.decoding, &validation(self.algorithm, rules)).map_err(|e| {
                match map_error(e.kind()) {
                    // jsonwebtoken reports a wrong-typed claim as missing: say which it is (this
                    // reads the refused token's payload only to word the message).
                    AuthError::MissingClaim(c) if present(token, &c) => AuthError::BadClaim(c),
                    other => other,
                }
            })?;
        if !data.claims.is_object() {
            return Err(AuthError::Malformed);
        }
        Ok(data.claims)
    }

    /// A token carrying `claims`, signed with the signing key.
    pub(super) fn sign(&self, claims: &Value) -> Result<String, AuthError> {
        let Some(key) = &self.encoding else {
            return Err(AuthError::Key("no signing key configured (a secret or SOCKEYE_JWT_PRIVATE_KEY)".into()));
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), claims, key)
            .map_err(|e| AuthError::Key(format!("could not sign the token: {e}")))
    }
}

fn validation(algorithm: Algorithm, rules: &Rules<'_>) -> Validation {
    let mut v = Validation::new(algorithm);
    v.algorithms = vec![algorithm];
    v.leeway = rules.leeway;
    v.validate_exp = true;
    v.validate_nbf = true;
    let mut required = vec!["exp"];
    match rules.issuer {
        Some(iss) => {
            v.set_issuer(&[iss]);
            required.push("iss");
        }
        None => v.iss = None,
    }
    match rules.audience {
        Some(aud) => {
            v.set_audience(&[aud]);
            required.push("aud");
        }
        None => v.validate_aud = false,
    }
    v.set_required_spec_claims(&required);
    v
}

/// Whether the (unverified) payload of `token` has the claim `name`.
fn present(token: &str, name: &str) -> bool {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token).is_ok_and(|d| d.claims.get(name).is_some())
}

fn map_error(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName | ErrorKind::MissingAlgorithm => {
            AuthError::Algorithm
        }
        ErrorKind::InvalidIssuer => AuthError::Issuer,
        ErrorKind::InvalidAudience => AuthError::Audience,
        ErrorKind::MissingRequiredClaim(c) => AuthError::MissingClaim(c.clone()),
        ErrorKind::InvalidClaimFormat(c) => AuthError::BadClaim(c.clone()),
        _ => AuthError::Malformed,
    }
}
