//! Helper process for the `FileStore` cross-process race test.
//!
//! `store_race DIR BOT_ID`: loads the bot, prints `ready`, waits for a line on stdin (the starting
//! gun, so every racer has read the same version before any writes), then saves on the version it
//! read and prints `won VERSION` or `conflict`. Any other outcome prints `error ...` and exits 2.

use maestro_lambda::bot_id::BotId;
use maestro_lambda::params::BotParams;
use maestro_lambda::store::{BotRecord, FileStore, StateStore, StoreError};
use std::io::{BufRead, Write};
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match race().await {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            println!("error {why}");
            ExitCode::from(2)
        }
    }
}

async fn race() -> Result<String, String> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(bot_id)) = (args.next(), args.next()) else {
        return Err("usage: store_race DIR BOT_ID".to_owned());
    };
    let bot_id = BotId::new(bot_id).map_err(|e| e.to_string())?;
    let store = FileStore::open(dir).map_err(|e| e.to_string())?;
    let loaded = store.load(&bot_id).await.map_err(|e| e.to_string())?;
    let expected = loaded.as_ref().map(|r| r.version);
    let mut record = loaded.map_or_else(
        || BotRecord::new(bot_id.clone(), BotParams::default()),
        |r| r.value,
    );
    record.last_outcome = Some(format!("written by process {}", std::process::id()));
    println!("ready");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let mut go = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut go)
        .map_err(|e| e.to_string())?;
    match store.save(&record, expected).await {
        Ok(version) => Ok(format!("won {version}")),
        Err(StoreError::Conflict { .. }) => Ok("conflict".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}
