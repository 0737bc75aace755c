//! `maestro remote`: status and control of a deployed bot (or a local `maestro run`).

use super::CliError;
use crate::remote::{Auth, Call, Remote, RemoteError, control_line, params_of, status_table};
use clap::{Args, Subcommand, ValueEnum};
use maestro_lambda::secrets::Secret;
use std::path::PathBuf;

/// `maestro remote` options.
#[derive(Args, Debug)]
#[command(after_long_help = "\
Examples (a function URL with AuthType NONE, HMAC with the secret's route_secret):
  export MAESTRO_ROUTE_SECRET=...        # or --secret-file FILE; never an argument
  maestro remote --url https://xyz.lambda-url.eu-west-1.on.aws status
  maestro remote --url ... pause ltc
  maestro remote --url ... set ltc short_window=5 long_window=20 guards.confirm_bars=2
  maestro remote --url ... flatten ltc --yes
A local `maestro run`: --url http://127.0.0.1:8080 --auth none (with --live: --auth token, the \
token read from --token-file, default .maestro/route-token).
A function URL with AuthType AWS_IAM needs SigV4, which this build does not sign: use the \
README's curl --aws-sigv4 recipe.

Exit codes: 0 done; 1 the bot could not be reached or refused (HTTP 4xx/5xx); 2 bad options.")]
pub struct RemoteArgs {
    /// The bot's routes: its function URL (https), or http://127.0.0.1:PORT for a local run.
    #[arg(long, env = "MAESTRO_URL")]
    pub url: String,
    /// How to authenticate.
    #[arg(long, value_enum, default_value = "hmac")]
    pub auth: AuthArg,
    /// File holding the route secret (HMAC); default: the MAESTRO_ROUTE_SECRET variable.
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    /// File holding a local `maestro run --live`'s token (--auth token).
    #[arg(long, default_value = ".maestro/route-token")]
    pub token_file: PathBuf,
    /// Print the route's JSON answer as it came, for scripts.
    #[arg(long)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub action: RemoteAction,
}

/// How `maestro remote` authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    /// HMAC with the route secret (function URL with AuthType NONE).
    Hmac,
    /// A local `maestro run --live`'s per-run token.
    Token,
    /// None (a simulated `maestro run`).
    None,
}

/// What `maestro remote` does.
#[derive(Subcommand, Debug)]
pub enum RemoteAction {
    /// Every bot's state (or one bot's with --bot).
    Status {
        /// Only this bot.
        #[arg(long)]
        bot: Option<String>,
    },
    /// Stop placing orders (candles are still recorded).
    Pause {
        /// The bot.
        bot: String,
    },
    /// Trade again; also clears a stop of the circuit breaker and a flatten.
    Resume {
        /// The bot.
        bot: String,
    },
    /// Close the position at market and pause.
    Flatten {
        /// The bot.
        bot: String,
        /// Confirm: a flatten closes a real position.
        #[arg(long)]
        yes: bool,
    },
    /// Change settings: KEY=VALUE pairs (short_window, long_window, bin, mode, qty,
    /// max_position, dry_run, guards.hysteresis_bp, guards.confirm_bars, guards.min_hold_bars).
    Set {
        /// The bot.
        bot: String,
        /// KEY=VALUE pairs.
        #[arg(required = true)]
        pairs: Vec<String>,
    },
}

impl RemoteArgs {
    fn auth(&self) -> Result<Auth, CliError> {
        let read = |path: &PathBuf, what: &str| {
            std::fs::read_to_string(path)
                .map(|s| s.trim().to_owned())
                .map_err(|e| {
                    CliError::Usage(format!("cannot read the {what} {}: {e}", path.display()))
                })
        };
        Ok(match self.auth {
            AuthArg::None => Auth::None,
            AuthArg::Token => Auth::Token(Secret::new(read(&self.token_file, "token file")?)),
            AuthArg::Hmac => {
                let secret = match &self.secret_file {
                    Some(path) => read(path, "secret file")?,
                    None => std::env::var("MAESTRO_ROUTE_SECRET").unwrap_or_default(),
                };
                if secret.trim().is_empty() {
                    return Err(CliError::Usage(
                        "--auth hmac needs the route secret in MAESTRO_ROUTE_SECRET or a \
                         --secret-file (never on the command line)"
                            .to_owned(),
                    ));
                }
                Auth::Hmac(Secret::new(secret.trim()))
            }
        })
    }

    fn call(&self) -> Result<Call, CliError> {
        Ok(match &self.action {
            RemoteAction::Status { bot } => Call::status(bot.as_deref()),
            RemoteAction::Pause { bot } => Call::control("pause", bot, None),
            RemoteAction::Resume { bot } => Call::control("resume", bot, None),
            RemoteAction::Flatten { bot, yes } => {
                if !yes {
                    return Err(CliError::Usage(format!(
                        "flatten closes bot {bot}'s position at market: add --yes to confirm"
                    )));
                }
                Call::control("flatten", bot, None)
            }
            RemoteAction::Set { bot, pairs } => {
                Call::control("set_params", bot, Some(params_of(pairs).map_err(usage)?))
            }
        })
    }
}

fn usage(e: RemoteError) -> CliError {
    match e {
        RemoteError::Usage(m) => CliError::Usage(m),
        RemoteError::Failed(m) => CliError::Failed(m),
    }
}

pub(super) fn run(args: &RemoteArgs) -> Result<(), CliError> {
    let call = args.call()?;
    let remote = Remote::new(&args.url, args.auth()?).map_err(usage)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;
    let now_ms = maestro_lambda::clock::now_ms();
    let (status, body) = runtime
        .block_on(remote.send(&call, now_ms / 1000))
        .map_err(usage)?;
    if args.json {
        say!("{body}");
    } else if call.path.starts_with("/status") && status == 200 {
        for line in status_table(&body, now_ms).lines() {
            say!("{line}");
        }
    } else {
        say!("{}", control_line(&body));
    }
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "HTTP {status}: {}",
            body["detail"].as_str().unwrap_or_default()
        )))
    }
}
