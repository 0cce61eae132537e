import { unavailable } from "./_unavailable.ts";

unavailable("deno task train-grpo", "the GRPO trainer");
