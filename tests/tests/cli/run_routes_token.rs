//! Under `--live` (real money) the route server takes a POST only with the token the run made:
//! printed at start and written to `route-token` in the state directory, mode 0600. Without it, a
//! flatten or a change of settings is refused and changes nothing.

use crate::run_routes_support::{BOT, Call, FLATTEN, PAUSE, SET_PARAMS, assert_refused, bot, send};
use maestro_cli::local::live::{LiveHost, run_live};
use maestro_lambda::config::DeployLimits;
use maestro_lambda::exchange::BinSize;
use maestro_lambda::store::{FileStore, StateStore};
use maestro_tests::fake_bitmex::{FakeBitmex, synthetic};
use maestro_tests::scratch::scratch_dir;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Collects what `run_live` prints.
#[derive(Clone, Default)]
struct Printed(Arc<Mutex<Vec<u8>>>);

impl Printed {
    fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for Printed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_run_refuses_posts_without_its_token() {
    let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
    // Fewer candles than the long window: the strategy stays warming up and never orders.
    let bars = synthetic(1_704_067_260_000, BinSize::M1, 30, |i| {
        70.0 + i as f64 * 0.01
    });
    fake.set_series("LTCUSDT", BinSize::M1, bars, 20);
    let state = scratch_dir("a_live_run_refuses_posts_without_its_token");
    let host = Arc::new(LiveHost {
        client: fake.client().expect("client"),
        store: FileStore::open(state.path()).expect("store"),
        bots: vec![bot()],
        limits: DeployLimits::of_bots(&[bot()]),
    });
    let printed = Printed::default();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = {
        let mut out = printed.clone();
        tokio::spawn(async move {
            let listen = Some("127.0.0.1:0".parse().expect("address"));
            run_live(host, listen, &mut out, async {
                let _ = stopped.await;
            })
            .await
        })
    };
    // The routes are up and the first tick has run (it prints one line per bot).
    let started = Instant::now();
    let addr: SocketAddr = loop {
        let text = printed.text();
        let addr = text
            .split_once("routes on http://")
            .and_then(|(_, rest)| rest.split_once(": "))
            .and_then(|(addr, _)| addr.parse().ok());
        if let Some(addr) = addr
            && text.contains(&format!("{BOT}: "))
        {
            break addr;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the live run did not start: {text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let store = FileStore::open(state.path()).expect("store");
    let id = BOT;
    let controls = |r: &maestro_lambda::store::BotRecord| (r.paused, r.flatten, r.params.clone());
    let record = store
        .load(&maestro_tests::bot_id(id))
        .await
        .expect("load")
        .expect("the tick saved");
    let before = controls(&record.value);

    let cases: Vec<(&str, Call<'_>)> = vec![
        (
            "flatten without a token",
            Call::curl(addr, "POST", "/control", FLATTEN),
        ),
        (
            "set_params without a token",
            Call::curl(addr, "POST", "/control", SET_PARAMS),
        ),
        (
            "flatten with a wrong token",
            Call {
                token: Some("0123456789abcdef0123456789abcdef"),
                ..Call::curl(addr, "POST", "/control", FLATTEN)
            },
        ),
        (
            "flatten with an empty token",
            Call {
                token: Some(""),
                ..Call::curl(addr, "POST", "/control", FLATTEN)
            },
        ),
    ];
    for (what, call) in &cases {
        assert_refused(what, &send(addr, call).await, 403);
    }
    let record = store
        .load(&maestro_tests::bot_id(id))
        .await
        .expect("load")
        .expect("saved");
    assert_eq!(
        controls(&record.value),
        before,
        "refused requests changed the bot's settings"
    );
    assert!(
        fake.requests_to("POST", "/order").is_empty(),
        "a refused flatten sent an order"
    );

    // The token: printed at start, and in a file only the user can read.
    let file = state.path().join("route-token");
    let token = std::fs::read_to_string(&file).expect("the token file");
    let token = token.trim();
    assert!(token.len() >= 32, "a token long enough not to be guessed");
    assert!(
        printed.text().contains(token),
        "the token is printed at start"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the token file is the user's only");
    }
    // A cross-site page does not get in with the token either.
    let cross_site = Call {
        token: Some(token),
        origin: Some("http://evil.example".into()),
        ..Call::curl(addr, "POST", "/control", FLATTEN)
    };
    assert_refused(
        "cross-site with the token",
        &send(addr, &cross_site).await,
        403,
    );
    let (status, body) = send(
        addr,
        &Call {
            token: Some(token),
            ..Call::curl(addr, "POST", "/control", PAUSE)
        },
    )
    .await;
    assert_eq!(status, 200, "curl with the token: {body}");
    let record = store
        .load(&maestro_tests::bot_id(id))
        .await
        .expect("load")
        .expect("saved");
    assert!(record.value.paused, "the accepted pause was saved");

    let _ = stop.send(());
    let ticks = run.await.expect("the run task").expect("the live run");
    assert!(ticks >= 1);
}
