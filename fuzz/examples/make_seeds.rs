//! Writes the seed files of both targets into `fuzz/seeds/<target>/`.
//! Run from `fuzz/`: `cargo run --example make_seeds` (any toolchain). The output is
//! deterministic, so running it again changes nothing unless the token format did.

use std::fs;
use std::path::Path;

use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{Hmac, Mac};
use login_worker::domain::token::TokenKind;
use login_worker_fuzz::{
    genuine_tokens, keys, mint, other_keys, previous_ed25519_public, scope, verify_token, Genuine, Minted,
    NOW,
};
use sha2::Sha256;

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(text).expect("a segment of our own token")
}

fn hs256(secret: &[u8], signing_input: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(signing_input.as_bytes());
    b64(&mac.finalize().into_bytes())
}

/// The header with another `kid` value.
fn with_kid(header: &str, kid: &str) -> String {
    let start = header.find(r#""kid":""#).expect("our headers name a kid") + r#""kid":""#.len();
    let end = start + header[start..].find('"').expect("a closed string");
    format!("{}{kid}{}", &header[..start], &header[end..])
}

fn write(dir: &Path, name: &str, body: impl AsRef<[u8]>) {
    fs::write(dir.join(name), body).expect("cannot write a seed");
}

/// A token seed, left as it is when only its signature would change: Ed25519 signatures
/// are randomized, and a new one on every run would only churn the tracked files.
fn write_token(dir: &Path, name: &str, token: impl AsRef<str>) {
    let token = token.as_ref();
    let signing_input = |text: &str| text.rsplit_once('.').map(|(input, _)| input.to_string());
    if let Ok(existing) = fs::read_to_string(dir.join(name)) {
        if signing_input(&existing).is_some() && signing_input(&existing) == signing_input(token) {
            return;
        }
    }
    write(dir, name, token);
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let tokens = root.join("token_verify");
    let bodies = root.join("request_bodies");
    fs::create_dir_all(&tokens).unwrap();
    fs::create_dir_all(&bodies).unwrap();

    let genuine = genuine_tokens();
    for (name, token) in &genuine {
        write_token(&tokens, &format!("{name}.jwt"), token);
    }
    let access = &genuine[0].1;
    let parts: Vec<&str> = access.split('.').collect();
    let header: String = String::from_utf8(unb64(parts[0])).unwrap();
    let payload: String = String::from_utf8(unb64(parts[1])).unwrap();

    // Tampered versions of the genuine access token.
    let forged_payload = payload.replace(r#""uid":1"#, r#""uid":2"#);
    write(
        &tokens,
        "tampered-payload.jwt",
        format!("{}.{}.{}", parts[0], b64(forged_payload.as_bytes()), parts[2]),
    );
    let refresh_payload = payload.replace(r#""token_use":"access""#, r#""token_use":"refresh""#);
    write(
        &tokens,
        "tampered-kind.jwt",
        format!("{}.{}.{}", parts[0], b64(refresh_payload.as_bytes()), parts[2]),
    );
    let mut signature = unb64(parts[2]);
    signature[0] ^= 1;
    write_token(&tokens, "tampered-signature.jwt", format!("{}.{}.{}", parts[0], parts[1], b64(&signature)));
    write_token(&tokens, "truncated-signature.jwt", format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]));
    write_token(&tokens, "no-signature.jwt", format!("{}.{}.", parts[0], parts[1]));
    let none = header.replace("HS256", "none");
    write_token(&tokens, "alg-none.jwt", format!("{}.{}.", b64(none.as_bytes()), parts[1]));
    let hs512 = header.replace("HS256", "HS512");
    write_token(&tokens, "alg-hs512.jwt", format!("{}.{}.{}", b64(hs512.as_bytes()), parts[1], parts[2]));
    let no_kid = r#"{"alg":"HS256","typ":"JWT"}"#;
    write_token(&tokens, "no-kid.jwt", format!("{}.{}.{}", b64(no_kid.as_bytes()), parts[1], parts[2]));
    let other = other_keys();
    let scope = scope();
    let outsider = Minted {
        keys: &other,
        scope: &scope,
        kind: TokenKind::Access,
        uid: 1,
        issued_at: NOW,
        ttl_seconds: 60,
        jti: "jti-other",
    };
    write_token(&tokens, "other-key.jwt", mint(outsider));

    // Key confusion: HS256 under the Ed25519 key's `kid`, with its public key as the
    // HMAC secret (the classic attack on verifiers that trust `alg`).
    let ed25519 = &genuine.iter().find(|(name, _)| *name == "previous-ed25519-access").unwrap().1;
    let ed_parts: Vec<&str> = ed25519.split('.').collect();
    let ed_header = String::from_utf8(unb64(ed_parts[0])).unwrap();
    let confused_header = b64(ed_header.replace("EdDSA", "HS256").as_bytes());
    let input = format!("{confused_header}.{}", ed_parts[1]);
    let public = previous_ed25519_public();
    write_token(
        &tokens,
        "alg-confusion-public-key.jwt",
        format!("{input}.{}", hs256(public.as_bytes(), &input)),
    );
    write_token(&tokens, "alg-confusion-raw-key.jwt", format!("{input}.{}", hs256(&unb64(&public), &input)));
    // The Ed25519 signature under the current HS256 key's `kid`.
    let current_kid = keys().signing().kid().to_string();
    let kid_swapped = b64(with_kid(&ed_header, &current_kid).as_bytes());
    write_token(&tokens, "ed25519-kid-swapped.jwt", format!("{kid_swapped}.{}.{}", ed_parts[1], ed_parts[2]));
    write_token(&tokens, "padded.jwt", format!("{access}=="));
    write_token(&tokens, "whitespace.jwt", format!(" {access}\n"));
    write_token(&tokens, "four-segments.jwt", format!("{access}.{}", parts[2]));
    write_token(&tokens, "header-only.jwt", parts[0]);

    // Bodies from the examples of docs/api.md, plus the edges of the rules.
    let refresh = &genuine[1].1;
    let seeds: Vec<(&str, String)> = vec![
        ("send-sms.json", r#"{"phone": "13911119999"}"#.into()),
        ("send-sms-e164.json", r#"{"phone":"+14155550123"}"#.into()),
        (
            "register.json",
            r#"{"account": "Foo", "password": "1234567", "password_confirmation": "1234567",
       "phone": "13911119999", "code": "379973"}"#
                .into(),
        ),
        (
            "register-numeric-code.json",
            r#"{"account":"用户 ü","password":"abc_DEF_123","password_confirmation":"abc_DEF_123","phone":"+8613911119999","code":379973}"#.into(),
        ),
        ("send-sms-reset.json", r#"{"phone": "13911119999", "purpose": "reset"}"#.into()),
        (
            "reset.json",
            r#"{"phone":"13911119999","code":"379973","password":"new_pass","password_confirmation":"new_pass"}"#.into(),
        ),
        (
            "change.json",
            format!(r#"{{"jwt":"{access}","pwd":"1234567","password":"new_pass","password_confirmation":"new_pass"}}"#),
        ),
        ("login.json", r#"{"account": "Foo", "pwd": "1234567"}"#.into()),
        ("token.json", format!(r#"{{"jwt": "{access}"}}"#)),
        ("status.json", format!(r#"{{"jwt":"{access}","scope":null}}"#)),
        ("refresh.json", format!(r#"{{"refresh_jwt":"{refresh}"}}"#)),
        ("deactivate.json", format!(r#"{{"jwt": "{access}"}}"#)),
        ("deactivate-all.json", format!(r#"{{"jwt":"{refresh}","scope":" all "}}"#)),
        ("deactivate-session.json", format!(r#"{{"jwt":"{access}","scope":"session"}}"#)),
        ("refresh-both.json", format!(r#"{{"jwt":"  ","refresh_jwt":"{refresh}","extra":{{"a":[1,2.5e3,null,true]}}}}"#)),
        ("not-object.json", r#"[{"phone":"13911119999"}]"#.into()),
        ("escapes.json", r#"{"account":"\u0000\ud83d\ude00\t","pwd":"\"\\\/","code":1e5,"phone":null}"#.into()),
    ];
    for (name, body) in seeds {
        write(&bodies, name, body);
    }
    // What each token seed gets, to see at a glance that they reach different checks.
    let keys = keys();
    let genuine = Genuine::new();
    let mut names: Vec<_> = fs::read_dir(&tokens).unwrap().map(|entry| entry.unwrap().path()).collect();
    names.sort();
    for path in names {
        let token = fs::read_to_string(&path).unwrap();
        let outcome = |kind| match verify_token(&keys, &token, kind) {
            Ok(verified) => format!("ok({:?})", verified.claims.token_use),
            Err(error) => format!("{error:?}"),
        };
        println!(
            "{:<30} access: {:<16} refresh: {:<16} any: {:<16} genuine: {}",
            path.file_name().unwrap().to_string_lossy(),
            outcome(Some(TokenKind::Access)),
            outcome(Some(TokenKind::Refresh)),
            outcome(None),
            genuine.contains(&token),
        );
    }
    println!("seeds written to {}", root.display());
}
