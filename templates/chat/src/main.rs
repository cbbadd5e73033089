#[tokio::main]
async fn main() -> sockeye::Result<()> {
    {{crate}}::app(sockeye::App::from_env()?).serve().await
}
