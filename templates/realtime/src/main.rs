use sockeye::{App, auth::Auth};

#[tokio::main]
async fn main() -> sockeye::Result<()> {
    sockeye::init_logging();
    let mut app = App::from_env()?; // reads .env too
    // No key configured at all (no SOCKEYE_JWT_SECRET, key files or API keys): sign with a
    // random secret of this process, so `cargo run` works out of the box. Its tokens stop
    // working at restart; set SOCKEYE_JWT_SECRET for real use.
    if !Auth::from_lookup(|name| std::env::var(name).ok())?.is_configured() {
        tracing::warn!("no SOCKEYE_JWT_SECRET: tokens are signed with a random secret until restart (see .env.example)");
        app = app.auth(Auth::hs256_random());
    }
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://{{crate}}.db".into());
    let db = {{crate}}::database(&url).await?;
    {{crate}}::app(app, db).serve().await
}
