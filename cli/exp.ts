import { unavailable } from "./_unavailable.ts";

unavailable("deno task exp", "the experiment runner (manifests exp1..exp5)");
