//! How WebSocket routes describe their messages in the docs.

use serde_json::{Value, json};

use super::{Message, WebSocket};
use crate::describe::{Direction, JsonSchema, MessageDoc, Operation, operation::Documented};

/// A text message: a plain `WebSocket` handler's messages.
impl JsonSchema for Message {
    fn schema_for(_: Direction) -> Value {
        json!({"type": "string"})
    }
    fn messages(_: Direction) -> Vec<MessageDoc> {
        vec![MessageDoc { name: "text".into(), summary: "a text message".into(), payload: json!({"type": "string"}) }]
    }
}

/// A WebSocket handle: the messages each way (a plain `WebSocket` is text both ways).
impl<In: JsonSchema, Out: JsonSchema> Documented for WebSocket<In, Out> {
    fn document(op: &mut Operation) {
        op.receives = In::messages(Direction::Read);
        op.sends = Out::messages(Direction::Write);
        op.decodes = std::any::type_name::<In>() != std::any::type_name::<Message>();
    }
}
