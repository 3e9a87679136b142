// Shared by the board and tracking pages: GraphQL over HTTP, login, and a self-healing live subscription.
// Plain browser JavaScript, no build step; the websocket protocol comes from the vendored graphql-ws client.
"use strict";

const Courtyard = (() => {
  const TOKEN_KEY = "courtyard.token";

  class GraphQLFailure extends Error {
    constructor(errors) {
      super(errors.map((e) => e.message).join("; "));
      this.codes = errors.map((e) => (e.extensions || {}).code);
    }
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function forget() {
    sessionStorage.removeItem(TOKEN_KEY);
  }

  async function gql(query, variables = {}) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const current = token();
    if (current) headers.Authorization = `Bearer ${current}`;
    const response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    const body = await response.json();
    if (body.errors && body.errors.length) throw new GraphQLFailure(body.errors);
    return body.data;
  }

  const LOGIN = `mutation($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      __typename ... on AuthPayload { token } ... on Error { message }
    }
  }`;

  async function login(email, password) {
    const { login: result } = await gql(LOGIN, { email, password });
    if (result.__typename !== "AuthPayload") throw new Error(result.message);
    sessionStorage.setItem(TOKEN_KEY, result.token);
    return result.token;
  }

  // Wire a <form> with email/password inputs to log in, then call `onReady`; skip it when a token is kept.
  function loginForm(form, onReady) {
    const failure = form.querySelector(".login-error");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      failure.textContent = "";
      try {
        await login(form.elements.email.value.trim(), form.elements.password.value);
        form.hidden = true;
        await onReady();
      } catch (error) {
        failure.textContent = error.message;
      }
    });
    if (token()) {
      form.hidden = true;
      onReady().catch((error) => {
        forget();
        form.hidden = false;
        failure.textContent = error.message;
      });
    }
  }

  // One websocket per page. graphql-ws reconnects by itself (with growing pauses) after a network drop or a
  // server restart, re-reading the token and re-sending every active subscription.
  function liveClient(onStatus) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const client = graphqlWs.createClient({
      url: `${scheme}://${location.host}/graphql`,
      connectionParams: () => ({ authorization: `Bearer ${token()}` }),
      retryAttempts: Infinity,
      shouldRetry: () => true,
      retryWait: async (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** retries, 4000))),
      keepAlive: 10000,
      on: {
        connecting: () => onStatus("connecting"),
        connected: () => onStatus("live"),
        closed: () => onStatus("reconnecting"),
      },
    });
    return client;
  }

  // Follow a subscription whose variables include `afterSeq`. graphql-ws re-sends this very payload object on
  // every reconnect, so moving `afterSeq` along as events arrive makes a reconnect replay exactly what was
  // missed. Events at or before the last seq seen are ignored, should one ever come twice.
  function follow(client, query, variables, { onEvent, onError }) {
    const payload = { query, variables: { ...variables } };
    return client.subscribe(payload, {
      next(message) {
        if (message.errors && message.errors.length) {
          onError(new GraphQLFailure(message.errors));
          return;
        }
        const event = Object.values(message.data)[0];
        if (payload.variables.afterSeq != null && event.seq <= payload.variables.afterSeq) return;
        payload.variables.afterSeq = event.seq;
        onEvent(event);
      },
      error(error) {
        onError(Array.isArray(error) ? new GraphQLFailure(error) : error);
      },
      complete() {},
    });
  }

  function escape(text) {
    return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  function clock(date, timeZone) {
    return new Intl.DateTimeFormat("zh-CN", { timeZone, hour: "2-digit", minute: "2-digit", hour12: false }).format(date);
  }

  // "3 h 05 min", "12 min", "40 s": durations for ages and countdowns.
  function duration(milliseconds) {
    const seconds = Math.max(0, Math.round(Math.abs(milliseconds) / 1000));
    if (seconds < 60) return `${seconds} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  }

  return { GraphQLFailure, clock, duration, escape, follow, forget, gql, liveClient, login, loginForm, token };
})();
