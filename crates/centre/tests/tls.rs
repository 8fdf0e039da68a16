//! TLS on the centre's listener: HTTPS with a configured certificate, plain HTTP refused, a silent client unable to
//! hold up others, and a clear error for a bad certificate file.

use jx_centre::tls::TlsFiles;
use jx_centre::{Settings, start};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

struct Tls {
    _dir: tempfile::TempDir,
    files: TlsFiles,
    cert_pem: String,
}

fn self_signed() -> Tls {
    let dir = tempfile::tempdir().expect("tempdir");
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("certificate");
    let files = TlsFiles { cert: dir.path().join("cert.pem"), key: dir.path().join("key.pem") };
    let cert_pem = ck.cert.pem();
    std::fs::write(&files.cert, &cert_pem).expect("written");
    std::fs::write(&files.key, ck.signing_key.serialize_pem()).expect("written");
    Tls { _dir: dir, files, cert_pem }
}

fn settings(dir: &std::path::Path, tls: Option<TlsFiles>) -> Settings {
    let mut s = Settings::new(dir);
    s.listen = "127.0.0.1:0".parse().expect("addr");
    s.tls = tls;
    s
}

async fn https_get(addr: std::net::SocketAddr, cert_pem: &str, path: &str) -> std::io::Result<String> {
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(cert_pem.as_bytes()).expect("pem")).expect("root");
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await?;
    let mut tls =
        TlsConnector::from(Arc::new(config)).connect(ServerName::try_from("localhost").expect("name"), tcp).await?;
    tls.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut out = String::new();
    tls.read_to_string(&mut out).await?;
    Ok(out)
}

#[tokio::test]
async fn the_centre_speaks_https_with_its_certificate_and_nothing_else() {
    let data = tempfile::tempdir().expect("tempdir");
    let tls = self_signed();
    let centre = start(settings(data.path(), Some(tls.files.clone())), false).await.expect("starts with TLS");
    assert!(centre.url().starts_with("https://"), "{}", centre.url());

    // A client that connects and says nothing does not hold up the next one.
    let _silent = TcpStream::connect(centre.addr).await.expect("connects");
    let started = Instant::now();
    let answer = https_get(centre.addr, &tls.cert_pem, "/api/v1/health").await.expect("https works");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"ok\""), "{answer}");
    // Served over TLS, the centre asks browsers to keep to HTTPS.
    assert!(answer.to_ascii_lowercase().contains("strict-transport-security: max-age=31536000"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    // Plain HTTP gets no HTTP answer.
    let mut plain = TcpStream::connect(centre.addr).await.expect("connects");
    plain.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("writes");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), plain.read_to_end(&mut buf)).await;
    assert!(!String::from_utf8_lossy(&buf).contains("HTTP/1.1 200"), "plain HTTP must not be served");

    // Another certificate is not trusted.
    let other = self_signed();
    assert!(https_get(centre.addr, &other.cert_pem, "/api/v1/health").await.is_err());
    centre.stop().await.expect("stops");
}

#[tokio::test]
async fn a_bad_certificate_stops_the_start_with_the_reason() {
    let data = tempfile::tempdir().expect("tempdir");
    let tls = self_signed();
    std::fs::write(&tls.files.cert, "not a certificate").expect("written");
    let err = start(settings(data.path(), Some(tls.files.clone())), false).await.err().expect("refused");
    assert!(format!("{err:#}").contains("holds no certificate"), "{err:#}");
    let missing = TlsFiles { cert: data.path().join("none.pem"), key: data.path().join("none.key") };
    let err = start(settings(data.path(), Some(missing)), false).await.err().expect("refused");
    assert!(format!("{err:#}").contains("reading the certificate"), "{err:#}");
}
