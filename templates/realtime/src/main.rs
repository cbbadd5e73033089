use sockeye::{App, auth::Auth};

/// Used when SOCKEYE_JWT_SECRET is not set, so that `cargo run` works out of the box.
const DEVELOPMENT_SECRET: &str = "development only: set SOCKEYE_JWT_SECRET in .env";

#[tokio::main]
async fn main() -> sockeye::Result<()> {
    let mut app = App::from_env()?; // reads .env too
    if std::env::var("SOCKEYE_JWT_SECRET").is_err() {
        eprintln!("SOCKEYE_JWT_SECRET is not set: signing tokens with a development secret (see .env.example)");
        app = app.auth(Auth::hs256(DEVELOPMENT_SECRET));
    }
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://{{crate}}.db".into());
    let db = {{crate}}::database(&url).await?;
    {{crate}}::app(app, db).serve().await
}
