// Seed 000's client on sockeye.js: every event of the products model, printed. The channel
// subscribes on connect; after a lost connection the client comes back with the events it missed.
import { connect } from "/_sockeye/sockeye.js";

connect("/ws/products").on("message", (m) => console.log(`Event: ${m.event}, Data: ${JSON.stringify(m.data)}`));
