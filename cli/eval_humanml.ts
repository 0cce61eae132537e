import { unavailable } from "./_unavailable.ts";

unavailable("deno task eval-humanml", "the evaluation protocol (frozen evaluator networks)");
