//! The browser client (`clients/js/sockeye.js`): served by the app, its own unit tests (a
//! scripted socket and a manual clock) run under Node.js, and the types its generator makes
//! from an app's AsyncAPI document checked by the TypeScript compiler.

mod common;

use std::{path::Path, process::Command};

use sockeye::prelude::*;

const SCRIPT: &str = include_str!("../clients/js/sockeye.js");

#[tokio::test]
async fn the_app_serves_the_browser_client_with_a_validator() {
    let client = TestClient::new(App::new().pubsub("/ws/chat"));
    let res = client.get(sockeye::hub::client::SCRIPT_PATH).send().await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    let etag = res.header("etag").expect("an etag").to_string();
    assert_eq!(res.text(), SCRIPT);
    let again = client.get("/_sockeye/sockeye.js").header("if-none-match", etag.as_str()).send().await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.text().is_empty());
    // Not part of the API's documents.
    let doc: serde_json::Value = client.get("/openapi.json").send().await.json();
    assert!(doc["paths"].get("/_sockeye/sockeye.js").is_none(), "{}", doc["paths"]);

    let without = TestClient::new(App::new().without_client_script());
    assert_eq!(without.get("/_sockeye/sockeye.js").send().await.status(), StatusCode::NOT_FOUND);
}

#[test]
fn the_browser_clients_unit_tests_pass_under_node() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("node")
        .args(["--test", "--test-reporter=tap", "clients/js/test"])
        .current_dir(root)
        .output()
        .expect("Node.js (`node`) is needed for the browser client's tests");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "node --test failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // Every test ran: none skipped, none to do.
    let count = |what: &str| {
        stdout.lines().find_map(|l| l.strip_prefix(&format!("# {what} "))).and_then(|n| n.trim().parse::<u32>().ok())
    };
    assert!(count("pass").is_some_and(|n| n >= 13), "{stdout}");
    assert_eq!((count("fail"), count("skipped"), count("todo")), (Some(0), Some(0), Some(0)), "{stdout}");
}

/// What a client sends in a game: typed, as a user's app would declare it.
#[derive(Deserialize, sockeye::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Move {
    /// Places a piece.
    Place { x: u8, y: u8 },
    /// Gives up.
    Resign,
}

/// What a game sends.
#[derive(Serialize, sockeye::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Board {
    /// Where the pieces are.
    State { cells: Vec<Option<String>>, turn: String },
}

/// A typed game room.
#[websocket("/ws/games/<game>")]
async fn game(ws: WebSocket<Move, Board>, game: String) -> Result<()> {
    let ws = ws.accept().await?;
    while let Some(next) = ws.receive().await? {
        let turn = match next {
            Move::Place { x, y } => format!("{game}: {x},{y}"),
            Move::Resign => format!("{game}: over"),
        };
        ws.send(&Board::State { cells: vec![None], turn }).await?;
    }
    Ok(())
}

/// `sockeye-types` on this app's `/asyncapi.json`: code using the generated helper as the
/// document says compiles under `tsc --strict`; a message missing a field, or of a type the
/// room does not take, does not, and the compiler names what is wrong.
#[tokio::test]
async fn generated_types_let_through_what_a_room_takes_and_nothing_else() {
    let client = TestClient::new(App::new());
    let doc = client.get("/asyncapi.json").send().await.text();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("sockeye-types-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("asyncapi.json"), doc).unwrap();
    for file in ["sockeye.js", "sockeye.d.ts"] {
        std::fs::copy(root.join("clients/js").join(file), dir.join(file)).unwrap();
    }
    let generated = Command::new("node")
        .arg(root.join("clients/js/bin/sockeye-types.mjs"))
        .arg(dir.join("asyncapi.json"))
        .args(["--import", "./sockeye.js"])
        .output()
        .expect("Node.js (`node`) is needed");
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    std::fs::write(dir.join("channels.ts"), &generated.stdout).unwrap();

    let tsc = common::npm::packages("typescript", &["typescript@5"]);
    let check = |name: &str, code: &str| {
        std::fs::write(dir.join(name), code).unwrap();
        let out = Command::new("node")
            .arg(common::npm::module_file(&tsc, "typescript/bin/tsc"))
            .args(["--noEmit", "--strict", "--target", "es2022", "--module", "es2022", "--moduleResolution", "bundler"])
            .args(["--lib", "es2022,dom"])
            .arg(dir.join(name))
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let good = r#"import { wsGamesGame } from "./channels";
const game = wsGamesGame({ game: "g1" });
game.on((msg) => {
  if (msg.type === "state") console.log(msg.turn, msg.cells.length);
});
game.send({ type: "place", x: 1, y: 2 });
game.send({ type: "resign" });
game.close();
"#;
    let (ok, report) = check("good.ts", good);
    assert!(ok, "tsc refused code that uses the generated helper as documented:\n{report}");
    let (ok, report) = check(
        "missing.ts",
        "import { wsGamesGame } from \"./channels\";\nwsGamesGame({ game: \"g\" }).send({ type: \"place\", x: 1 });\n",
    );
    assert!(!ok && report.contains("'y'"), "a move missing `y` compiled:\n{report}");
    let (ok, report) = check(
        "unknown.ts",
        "import { wsGamesGame } from \"./channels\";\nwsGamesGame({ game: \"g\" }).send({ type: \"fly\" });\n",
    );
    assert!(!ok && report.contains("\"fly\""), "a move the room does not take compiled:\n{report}");
    let (ok, report) = check("param.ts", "import { wsGamesGame } from \"./channels\";\nwsGamesGame({});\n");
    assert!(!ok && report.contains("'game'"), "a missing path parameter compiled:\n{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
