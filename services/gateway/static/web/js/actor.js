// The post the session acts as, and what it holds: read from the session kept at sign-in.
import { session } from "./api.js";

export function acting() {
  const s = session();
  return s?.me?.posts.find((p) => p.code === s.acting_as) || { code: s?.acting_as, roles: s?.roles || [], delegated_posts: [] };
}

/** Whether the post acted as (or one delegated to it) holds an item held by `post`. */
export function holds(post) {
  const me = acting();
  return post === me.code || (me.delegated_posts || []).includes(post);
}
