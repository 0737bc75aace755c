//! FileStore latency: what a local tick pays for its state (a load, and a conditional save that
//! fsyncs the file and the directory). Run: `cargo bench -p maestro-lambda --bench file_store`.

use criterion::{Criterion, criterion_main};
use maestro_lambda::bot_id::BotId;
use maestro_lambda::params::BotParams;
use maestro_lambda::store::{BotRecord, FileStore, StateStore};
use std::hint::black_box;

fn file_store(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = FileStore::open(dir.path()).expect("store");
    let bot: BotId = "bench".parse().expect("bot id");
    let mut record = BotRecord::new(bot.clone(), BotParams::default());
    record.core = Some(maestro_lambda::store::CoreState {
        lot_size: 1000,
        state: "x".repeat(600),
        tick_size: None,
    });
    record.last_close_ms = Some(1_620_000_000_000);
    let mut version = runtime
        .block_on(store.save(&record, None))
        .expect("first save");

    let mut group = c.benchmark_group("file_store");
    group.bench_function("load", |b| {
        b.iter(|| runtime.block_on(store.load(black_box(&bot))).expect("load"));
    });
    group.bench_function("save", |b| {
        b.iter(|| {
            version = runtime
                .block_on(store.save(black_box(&record), Some(version)))
                .expect("save");
        });
    });
    group.bench_function("load_then_save", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let read = store.load(&bot).await.expect("load").expect("present");
                store.save(&record, Some(read.version)).await.expect("save")
            })
        });
    });
    group.finish();
}

// criterion's macro generates a function that cannot carry a doc comment.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::file_store);
}
criterion_main!(group::benches);
