//! `maestro remote`: status and control of a deployed bot (or a local `maestro run`).

use super::CliError;
use crate::remote::{Auth, Call, Remote, RemoteError, control_line, params_of, status_table};
use clap::{Args, Subcommand, ValueEnum};
use maestro_lambda::secrets::Secret;
use std::path::PathBuf;

/// `maestro remote` options.
#[derive(Args, Debug)]
#[command(after_long_help = "\
Examples, a function URL with AuthType AWS_IAM (SigV4; a build with --features iam):
  export AWS_PROFILE=trading                # or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or --profile
  maestro remote --url https://xyz.lambda-url.eu-west-1.on.aws status
  maestro remote --url ... dashboard         # the dashboard on http://127.0.0.1:8788/
A function URL with AuthType NONE (HMAC with the secret's route_secret):
  export MAESTRO_ROUTE_SECRET=...        # or --secret-file FILE; never an argument
  maestro remote --url https://xyz.lambda-url.eu-west-1.on.aws status
  maestro remote --url ... pause ltc
  maestro remote --url ... set ltc short_window=5 long_window=20 guards.confirm_bars=2
  maestro remote --url ... flatten ltc --yes
Without --auth: hmac when a route secret is given (MAESTRO_ROUTE_SECRET or --secret-file), else \
iam in a build with the feature, else hmac.
A local `maestro run`: --url http://127.0.0.1:8080 --auth none (with --live: --auth token, the \
token read from --token-file, default .maestro/route-token).

Exit codes: 0 done; 1 the bot could not be reached or refused (HTTP 4xx/5xx); 2 bad options.")]
pub struct RemoteArgs {
    /// The bot's routes: its function URL (https), or http://127.0.0.1:PORT for a local run.
    #[arg(long, env = "MAESTRO_URL", global = true)]
    pub url: Option<String>,
    /// How to authenticate (default: hmac when a route secret is given, else iam when built
    /// with it, else hmac).
    #[arg(long, value_enum, global = true)]
    pub auth: Option<AuthArg>,
    /// File holding the route secret (HMAC); default: the MAESTRO_ROUTE_SECRET variable.
    #[arg(long, global = true)]
    pub secret_file: Option<PathBuf>,
    /// File holding a local `maestro run --live`'s token (--auth token).
    #[arg(long, default_value = ".maestro/route-token", global = true)]
    pub token_file: PathBuf,
    /// The AWS region to sign for (--auth iam) when the URL does not name one; must agree with
    /// the URL's when it does.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// The AWS profile of the shared config and credentials files (--auth iam); default:
    /// AWS_PROFILE, else `default`.
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Print the route's JSON answer as it came, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub action: RemoteAction,
}

/// How `maestro remote` authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    /// SigV4 with your AWS credentials (function URL with AuthType AWS_IAM; feature `iam`).
    Iam,
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
    /// Serve the dashboard on 127.0.0.1 and forward its calls to the bot, signed (a browser
    /// cannot sign SigV4, and need not hold the route secret). Runs until Ctrl-C.
    Dashboard {
        /// The local port (0 picks a free one).
        #[arg(long, default_value_t = 8788)]
        port: u16,
    },
}

/// How the calls are signed, once the options are read.
enum Chosen {
    Plain(Auth),
    /// SigV4 for `region`, credentials from the chain (optionally for `profile`).
    #[cfg(feature = "iam")]
    Iam {
        region: String,
        profile: Option<String>,
    },
}

impl RemoteArgs {
    fn url(&self) -> Result<&str, CliError> {
        self.url.as_deref().ok_or_else(|| {
            CliError::Usage(
                "--url is needed (or MAESTRO_URL): the function URL, or http://127.0.0.1:PORT \
                 for a local run"
                    .to_owned(),
            )
        })
    }

    fn route_secret(&self) -> Result<Option<Secret>, CliError> {
        let secret = match &self.secret_file {
            Some(path) => read(path, "secret file")?,
            None => std::env::var("MAESTRO_ROUTE_SECRET").unwrap_or_default(),
        };
        let secret = secret.trim();
        Ok((!secret.is_empty()).then(|| Secret::new(secret)))
    }

    fn auth(&self) -> Result<Chosen, CliError> {
        let secret = self.route_secret()?;
        let auth = self.auth.unwrap_or(match secret {
            Some(_) => AuthArg::Hmac,
            None if cfg!(feature = "iam") => AuthArg::Iam,
            None => AuthArg::Hmac,
        });
        Ok(match auth {
            AuthArg::None => Chosen::Plain(Auth::None),
            AuthArg::Token => Chosen::Plain(Auth::Token(Secret::new(read(
                &self.token_file,
                "token file",
            )?))),
            AuthArg::Hmac => match secret {
                Some(secret) => Chosen::Plain(Auth::Hmac(secret)),
                None => {
                    return Err(CliError::Usage(format!(
                        "--auth hmac needs the route secret in MAESTRO_ROUTE_SECRET or a \
                         --secret-file (never on the command line){}",
                        if cfg!(feature = "iam") {
                            "; a function URL with AuthType AWS_IAM takes --auth iam"
                        } else {
                            "; a function URL with AuthType AWS_IAM needs --auth iam, in a build \
                             with it: cargo build --release -p maestro-cli --features iam"
                        }
                    )));
                }
            },
            AuthArg::Iam => self.iam()?,
        })
    }

    /// SigV4 for the URL's region (or --region's).
    #[cfg(feature = "iam")]
    fn iam(&self) -> Result<Chosen, CliError> {
        let region = crate::remote::region::signing_region(self.url()?, self.region.as_deref())
            .map_err(usage)?;
        Ok(Chosen::Iam {
            region,
            profile: self.profile.clone(),
        })
    }

    /// This build cannot sign SigV4: how to get one that can.
    #[cfg(not(feature = "iam"))]
    fn iam(&self) -> Result<Chosen, CliError> {
        Err(CliError::Usage(
            "--auth iam (SigV4) is not in this build of maestro: build it with `cargo build \
             --release -p maestro-cli --features iam` (or use the README's curl --aws-sigv4 recipe)"
                .to_owned(),
        ))
    }

    /// The remote, built inside the runtime (the credential chain starts there).
    async fn remote(&self) -> Result<Remote, CliError> {
        let url = self.url()?;
        match self.auth()? {
            Chosen::Plain(auth) => Remote::new(url, auth).map_err(usage),
            #[cfg(feature = "iam")]
            Chosen::Iam { region, profile } => {
                let signer =
                    crate::remote::sigv4::IamSigner::from_chain(profile.as_deref(), region).await;
                Remote::iam(url, signer).map_err(usage)
            }
        }
    }

    fn call(&self) -> Result<Call, CliError> {
        Ok(match &self.action {
            RemoteAction::Dashboard { .. } => {
                return Err(CliError::Usage("the dashboard is not one call".to_owned()));
            }
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

fn read(path: &PathBuf, what: &str) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| CliError::Usage(format!("cannot read the {what} {}: {e}", path.display())))
}

pub(super) fn run(args: &RemoteArgs) -> Result<(), CliError> {
    if let RemoteAction::Dashboard { port } = args.action {
        return dashboard(args, port);
    }
    let call = args.call()?;
    // Options first: a mistake is reported before the credential chain is read.
    let _ = args.url()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;
    let now_ms = maestro_lambda::clock::now_ms();
    let (status, body) = runtime.block_on(async {
        let remote = args.remote().await?;
        remote.send(&call, now_ms / 1000).await.map_err(usage)
    })?;
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

/// `maestro remote dashboard`: serves until Ctrl-C.
fn dashboard(args: &RemoteArgs, port: u16) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let remote = args.remote().await?;
        let (base, how) = (remote.base().to_owned(), remote.auth_name());
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let bound = crate::remote::dashboard::spawn(remote, addr)
            .await
            .map_err(usage)?;
        say!("dashboard on http://{bound}/ (open it in your browser): calls go to {base}, signed with {how}; Ctrl-C stops");
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| CliError::Failed(format!("cannot wait for Ctrl-C: {e}")))
    })
}
