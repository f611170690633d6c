//! The fetcher against real servers on loopback. Loopback is not public, so every test that
//! expects a page puts the server's address in `allow_networks`, as an operator would for an
//! intranet site; the others check that without that exception nothing gets through.

use std::{
    collections::HashMap,
    io,
    net::{IpAddr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use cairn_tools::{
    ToolError,
    fetch::{FetchPolicy, Fetcher, Resolver, is_public},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// Resolves names from a table; anything else does not exist. No DNS is ever asked.
struct TableResolver(HashMap<String, Vec<IpAddr>>);

#[async_trait]
impl Resolver for TableResolver {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        self.0
            .get(host)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such host"))
    }
}

fn resolver(entries: &[(&str, &str)]) -> Arc<TableResolver> {
    let mut table: HashMap<String, Vec<IpAddr>> = HashMap::new();
    for (name, ip) in entries {
        table
            .entry(name.to_string())
            .or_default()
            .push(ip.parse().unwrap());
    }
    Arc::new(TableResolver(table))
}

/// A server that counts its requests, so a test can tell that a refused fetch sent nothing.
/// Plain HTTP/1.1 over tokio, one request per connection: enough for these tests, and it
/// keeps an HTTP server framework out of this crate's graph.
struct Server {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

async fn serve(ip: &str, redirect_to: Option<String>) -> Server {
    let listener = TcpListener::bind((ip.parse::<IpAddr>().unwrap(), 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let redirect_to: Arc<str> = redirect_to.unwrap_or_default().into();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(respond(stream, Arc::clone(&redirect_to)));
        }
    });
    Server { addr, hits }
}

/// The test site: pages, redirects, a big body, a slow one.
async fn respond(mut stream: TcpStream, redirect_to: Arc<str>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split(' ').nth(1).unwrap_or("/").to_string();
    let reply = |status: &str, headers: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let response = match path.as_str() {
        "/hello" => reply(
            "200 OK",
            "content-type: text/plain; charset=utf-8\r\n",
            "hello from the site",
        ),
        "/moved" => reply("301 Moved Permanently", "location: /hello\r\n", ""),
        "/away" => reply(
            "307 Temporary Redirect",
            &format!("location: {redirect_to}\r\n"),
            "",
        ),
        "/big" => reply("200 OK", "", &"é".repeat(50_000)),
        "/missing" => reply("404 Not Found", "", "no such page"),
        "/hang" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        "/trickle" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nfirst part")
                .await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        other => match other
            .strip_prefix("/loop/")
            .and_then(|n| n.parse::<u32>().ok())
        {
            Some(n) => reply("302 Found", &format!("location: /loop/{}\r\n", n + 1), ""),
            None => reply("404 Not Found", "", ""),
        },
    };
    let _ = stream.write_all(response.as_bytes()).await;
}

fn policy(hosts: &[&str], networks: &[&str]) -> FetchPolicy {
    FetchPolicy {
        allow_hosts: hosts.iter().map(|host| host.to_string()).collect(),
        allow_networks: networks.iter().map(|net| net.parse().unwrap()).collect(),
        timeout: Duration::from_secs(10),
        ..FetchPolicy::default()
    }
}

#[track_caller]
fn assert_refused_address(result: Result<cairn_tools::fetch::FetchedPage, ToolError>, what: &str) {
    match result {
        Err(ToolError::AddressNotAllowed { .. }) => {}
        other => panic!("{what}: expected AddressNotAllowed, got {other:?}"),
    }
}

#[test]
fn public_and_non_public_addresses() {
    let not_public = [
        "0.0.0.0",
        "10.1.2.3",
        "100.64.0.1",
        "127.0.0.1",
        "127.255.255.254",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.8",
        "192.0.2.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::127.0.0.1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::10.0.0.1",
        "64:ff9b::127.0.0.1",
        "64:ff9b:1::1",
        "2002:7f00:1::",
        "2002:a00:1::1",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "fec0::1",
        "ff02::1",
        "2001:db8::1",
        "2001::1",
        "3fff::1",
        "100::1",
        "5f00::1",
    ];
    for ip in not_public {
        assert!(!is_public(ip.parse().unwrap()), "{ip} should not be public");
    }
    let public = [
        "1.1.1.1",
        "8.8.8.8",
        "93.184.216.34",
        "172.32.0.1",
        "100.128.0.1",
        "::ffff:8.8.8.8",
        "64:ff9b::8.8.8.8",
        "2002:808:808::1",
        "2606:4700:4700::1111",
        "2a00:1450:4001::1",
    ];
    for ip in public {
        assert!(is_public(ip.parse().unwrap()), "{ip} should be public");
    }
}

#[tokio::test]
async fn loopback_is_refused_without_an_exception() {
    let server = serve("127.0.0.1", None).await;
    let fetcher = Fetcher::new(policy(&["*"], &[])).unwrap();
    assert_refused_address(
        fetcher
            .fetch(&format!("http://127.0.0.1:{}/hello", server.addr.port()))
            .await,
        "127.0.0.1",
    );
    assert_refused_address(
        fetcher
            .fetch(&format!("http://localhost:{}/hello", server.addr.port()))
            .await,
        "localhost",
    );
    assert_eq!(server.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn odd_spellings_of_internal_addresses_are_refused() {
    let fetcher = Fetcher::with_resolver(policy(&["*"], &[]), resolver(&[])).unwrap();
    for url in [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://127.1/",
        "http://127.0.0.1./",
        "http://0/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[0:0:0:0:0:ffff:a9fe:a9fe]/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
        "http://[64:ff9b::a00:1]/",
        "http://10.0.0.1:8080/",
        "https://192.168.0.1/",
        "http://user:pw@127.0.0.1/",
    ] {
        assert_refused_address(fetcher.fetch(url).await, url);
    }
}

#[tokio::test]
async fn names_resolving_to_internal_addresses_are_refused() {
    let server = serve("127.0.0.1", None).await;
    let port = server.addr.port();
    let table = resolver(&[
        ("private.test", "10.0.0.5"),
        ("loop.test", "127.0.0.1"),
        ("metadata.test", "169.254.169.254"),
        ("six.test", "::1"),
        ("mapped.test", "::ffff:127.0.0.1"),
        ("nat64.test", "64:ff9b::7f00:1"),
        // One bad address spoils the answer: no picking the public one and hoping.
        ("mixed.test", "93.184.216.34"),
        ("mixed.test", "127.0.0.1"),
    ]);
    let fetcher = Fetcher::with_resolver(policy(&["*.test"], &[]), table).unwrap();
    for host in [
        "private.test",
        "loop.test",
        "metadata.test",
        "six.test",
        "mapped.test",
        "nat64.test",
        "mixed.test",
    ] {
        assert_refused_address(
            fetcher.fetch(&format!("http://{host}:{port}/hello")).await,
            host,
        );
    }
    assert_eq!(server.hits.load(Ordering::SeqCst), 0);
    match fetcher.fetch("http://nowhere.test/").await {
        Err(ToolError::Resolve { host, .. }) => assert_eq!(host, "nowhere.test"),
        other => panic!("expected a resolve error, got {other:?}"),
    }
}

#[tokio::test]
async fn hosts_off_the_allow_list_and_other_schemes_are_refused() {
    let table = resolver(&[("a.example.com", "10.0.0.1"), ("example.com", "10.0.0.1")]);
    let fetcher = Fetcher::with_resolver(
        policy(&["*.example.com", "docs.rs"], &[]),
        Arc::clone(&table) as _,
    )
    .unwrap();
    // The subdomain passes the allow-list and is stopped by the address rule; the apex is
    // not covered by "*.example.com"; others are not on the list at all.
    assert_refused_address(fetcher.fetch("http://a.example.com/").await, "subdomain");
    for url in [
        "http://example.com/",
        "http://evil.com/",
        "http://example.com.evil.com/",
        "http://xexample.com/",
    ] {
        assert!(
            matches!(fetcher.fetch(url).await, Err(ToolError::HostNotAllowed(_))),
            "{url}"
        );
    }
    for url in [
        "file:///etc/passwd",
        "ftp://docs.rs/",
        "gopher://docs.rs/",
        "data:text/plain,hi",
    ] {
        assert!(
            matches!(
                fetcher.fetch(url).await,
                Err(ToolError::SchemeNotAllowed(_))
            ),
            "{url}"
        );
    }
    assert!(matches!(
        fetcher.fetch("not a url").await,
        Err(ToolError::InvalidUrl { .. })
    ));
    let nothing_allowed = Fetcher::with_resolver(FetchPolicy::default(), table).unwrap();
    assert!(matches!(
        nothing_allowed.fetch("http://example.com/").await,
        Err(ToolError::HostNotAllowed(_))
    ));
    assert!(
        Fetcher::new(policy(&["http://x/"], &[])).is_err(),
        "a URL is not a host entry"
    );
}

#[tokio::test]
async fn an_allowed_network_is_fetched() {
    let server = serve("127.0.0.1", None).await;
    let port = server.addr.port();
    let table = resolver(&[("wiki.internal", "127.0.0.1")]);
    let fetcher = Fetcher::with_resolver(
        policy(&["wiki.internal", "127.0.0.1"], &["127.0.0.1/32"]),
        table,
    )
    .unwrap();
    let page = fetcher
        .fetch(&format!("http://wiki.internal:{port}/hello"))
        .await
        .unwrap();
    assert_eq!(page.status, 200);
    assert_eq!(page.text, "hello from the site");
    assert_eq!(
        page.content_type.as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(page.final_url, format!("http://wiki.internal:{port}/hello"));
    assert!(!page.truncated);
    let page = fetcher
        .fetch(&format!("http://127.0.0.1:{port}/moved"))
        .await
        .unwrap();
    assert_eq!(page.final_url, format!("http://127.0.0.1:{port}/hello"));
    assert_eq!(page.text, "hello from the site");
    let page = fetcher
        .fetch(&format!("http://127.0.0.1:{port}/missing"))
        .await
        .unwrap();
    assert_eq!((page.status, page.text.as_str()), (404, "no such page"));
    assert_eq!(server.hits.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn redirects_are_checked_at_every_hop() {
    // The secret server listens on another loopback address that the policy does not allow.
    let secret = serve("127.0.0.2", None).await;
    let secret_url = format!("http://127.0.0.2:{}/hello", secret.addr.port());
    let table = resolver(&[
        ("site.test", "127.0.0.1"),
        ("secret.test", "127.0.0.2"),
        ("intranet.test", "10.0.0.1"),
    ]);
    let targets = [
        (secret_url.clone(), "loopback literal"),
        (
            format!("http://secret.test:{}/hello", secret.addr.port()),
            "name of a loopback address",
        ),
        (
            format!("http://[::ffff:127.0.0.2]:{}/hello", secret.addr.port()),
            "mapped loopback",
        ),
        ("http://intranet.test/".to_string(), "private name"),
        (
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "metadata",
        ),
    ];
    for (target, what) in targets {
        let site = serve("127.0.0.1", Some(target)).await;
        let fetcher =
            Fetcher::with_resolver(policy(&["*"], &["127.0.0.1/32"]), Arc::clone(&table) as _)
                .unwrap();
        assert_refused_address(
            fetcher
                .fetch(&format!("http://site.test:{}/away", site.addr.port()))
                .await,
            what,
        );
        assert_eq!(
            site.hits.load(Ordering::SeqCst),
            1,
            "{what}: the allowed site was asked once"
        );
    }
    assert_eq!(
        secret.hits.load(Ordering::SeqCst),
        0,
        "the secret server was never reached"
    );

    let site = serve("127.0.0.1", Some("http://elsewhere.test/".into())).await;
    let fetcher = Fetcher::with_resolver(
        policy(&["site.test"], &["127.0.0.1/32"]),
        Arc::clone(&table) as _,
    )
    .unwrap();
    let result = fetcher
        .fetch(&format!("http://site.test:{}/away", site.addr.port()))
        .await;
    assert!(
        matches!(result, Err(ToolError::HostNotAllowed(ref host)) if host == "elsewhere.test"),
        "{result:?}"
    );

    let site = serve("127.0.0.1", Some("file:///etc/passwd".into())).await;
    let result = fetcher
        .fetch(&format!("http://site.test:{}/away", site.addr.port()))
        .await;
    assert!(
        matches!(result, Err(ToolError::SchemeNotAllowed(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn redirects_stop_at_the_limit() {
    let server = serve("127.0.0.1", None).await;
    let url = format!("http://127.0.0.1:{}/loop/0", server.addr.port());
    let fetcher = Fetcher::new(FetchPolicy {
        max_redirects: 3,
        ..policy(&["127.0.0.1"], &["127.0.0.1/32"])
    })
    .unwrap();
    assert!(matches!(
        fetcher.fetch(&url).await,
        Err(ToolError::TooManyRedirects(3))
    ));
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        4,
        "the first request and three redirects"
    );
    let fetcher = Fetcher::new(FetchPolicy {
        max_redirects: 0,
        ..policy(&["127.0.0.1"], &["127.0.0.1/32"])
    })
    .unwrap();
    assert!(matches!(
        fetcher.fetch(&url).await,
        Err(ToolError::TooManyRedirects(0))
    ));
}

#[tokio::test]
async fn bodies_are_cut_at_the_size_cap() {
    let server = serve("127.0.0.1", None).await;
    let url = format!("http://127.0.0.1:{}/big", server.addr.port());
    // 1001 bytes ends halfway through a two-byte "é": the half is dropped, not mangled.
    let fetcher = Fetcher::new(FetchPolicy {
        max_bytes: 1001,
        ..policy(&["127.0.0.1"], &["127.0.0.1/32"])
    })
    .unwrap();
    let page = fetcher.fetch(&url).await.unwrap();
    assert!(page.truncated);
    assert_eq!(page.text, "é".repeat(500));
    let fetcher = Fetcher::new(FetchPolicy {
        max_bytes: 100_000,
        ..policy(&["127.0.0.1"], &["127.0.0.1/32"])
    })
    .unwrap();
    let page = fetcher.fetch(&url).await.unwrap();
    assert!(!page.truncated);
    assert_eq!(page.text.len(), 100_000);
}

#[tokio::test]
async fn the_timeout_covers_the_whole_fetch() {
    let server = serve("127.0.0.1", None).await;
    let fetcher = Fetcher::new(FetchPolicy {
        timeout: Duration::from_millis(300),
        ..policy(&["127.0.0.1"], &["127.0.0.1/32"])
    })
    .unwrap();
    for path in ["hang", "trickle"] {
        let result = fetcher
            .fetch(&format!("http://127.0.0.1:{}/{path}", server.addr.port()))
            .await;
        assert!(
            matches!(result, Err(ToolError::FetchTimeout(_))),
            "{path}: {result:?}"
        );
    }
}
