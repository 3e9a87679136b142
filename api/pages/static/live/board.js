// The dispatcher board: tickets by status, technicians, a map, assignment and re-optimisation, all live.
"use strict";

(() => {
  const { duration, escape, follow, gql, liveClient, loginForm } = Courtyard;

  const COLUMNS = [
    ["TRIAGE", "Triage"],
    ["NEW", "New"],
    ["ASSIGNED", "Assigned"],
    ["ACCEPTED", "Accepted"],
    ["ON_SITE", "On site"],
    ["IN_PROGRESS", "In progress"],
    ["RESOLVED", "Resolved"],
  ];
  // A reopened ticket waits among the new ones; one waiting for its owner stays with the work in progress.
  const COLUMN_OF = { REOPENED: "NEW", WAITING_FOR_OWNER: "IN_PROGRESS" };
  const OPEN = ["TRIAGE", "NEW", "ASSIGNED", "ACCEPTED", "ON_SITE", "IN_PROGRESS", "WAITING_FOR_OWNER", "RESOLVED", "REOPENED"];
  const CANCELLABLE = new Set(["TRIAGE", "NEW", "ASSIGNED", "ACCEPTED", "ON_SITE", "IN_PROGRESS", "WAITING_FOR_OWNER", "REOPENED"]);
  const WARNING_SHARE = 0.8;

  const TICKET = `fragment BoardTicket on Ticket {
    id status category priority version description locationKind locationDetail createdAt
    respondDueAt onSiteDueAt resolveDueAt slaState slaPausedSince
    unit { number building { id name latitude longitude } }
    building { id name latitude longitude }
    assignee { id name }
  }`;
  const VIEWER = `{ viewer { displayName roles { role project { id name timezone } } } }`;
  const TICKETS = `query($projectId: ID!, $status: [TicketStatus!], $after: String) {
    tickets(filter: { projectId: $projectId, status: $status }, first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { ...BoardTicket events { seq } } }
    }
  } ${TICKET}`;
  const TECHNICIANS = `query($projectId: ID!) {
    technicians(projectId: $projectId) {
      id name skills capacity onShift currentLoad currentLocation { latitude longitude } home { latitude longitude }
    }
  }`;
  const BUILDINGS = `query($projectId: ID!, $after: String) {
    units(projectId: $projectId, first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { building { id name latitude longitude } } }
    }
  }`;
  const BOARD = `subscription($projectId: ID!, $afterSeq: Int) {
    dispatchBoard(projectId: $projectId, afterSeq: $afterSeq) {
      seq type at actorRole ticketId ticket { ...BoardTicket }
    }
  } ${TICKET}`;
  const ASSIGN = `mutation($ticketId: ID!, $technicianId: ID!) {
    assignTicket(ticketId: $ticketId, technicianId: $technicianId) {
      __typename ... on Ticket { id } ... on Error { message }
    }
  }`;
  const CANCEL = `mutation($ticketId: ID!) {
    transitionTicket(ticketId: $ticketId, action: CANCEL, note: "Cancelled on the dispatch board") {
      __typename ... on Ticket { id } ... on Error { message }
    }
  }`;
  const OPTIMISE = `mutation($projectId: ID!, $apply: Boolean!) {
    optimizeDispatch(projectId: $projectId, apply: $apply) {
      __typename
      ... on DispatchPlan {
        applied totalCost
        assignments { ticketId technicianId changes cost { distanceMeters } }
        unassigned { ticketId reason }
      }
      ... on Error { message }
    }
  }`;

  const state = {
    project: null,
    tickets: new Map(),
    technicians: [],
    buildings: new Map(),
    dragged: null,
  };

  const $ = (selector) => document.querySelector(selector);

  function showError(message) {
    const box = $("#board-error");
    box.textContent = message;
    box.hidden = !message;
  }

  function columnOf(ticket) {
    return COLUMN_OF[ticket.status] || ticket.status;
  }

  function place(ticket) {
    const where = ticket.unit ? `${ticket.unit.building.name} ${ticket.unit.number}` : ticket.building ? ticket.building.name : "";
    const detail = ticket.locationDetail ? ` · ${ticket.locationDetail}` : "";
    return `${where}${ticket.unit ? "" : ` ${ticket.locationKind.toLowerCase().replace("_", " ")}`}${detail}`.trim();
  }

  function buildingOf(ticket) {
    return ticket.unit ? ticket.unit.building : ticket.building;
  }

  // The promise the ticket is racing now: a technician accepting, arriving, or finishing.
  function activeDeadline(ticket) {
    if (["TRIAGE", "NEW", "ASSIGNED", "REOPENED"].includes(ticket.status)) return ["respond", ticket.respondDueAt];
    if (ticket.status === "ACCEPTED") return ["on site", ticket.onSiteDueAt];
    if (["ON_SITE", "IN_PROGRESS"].includes(ticket.status)) return ["resolve", ticket.resolveDueAt];
    return [null, null];
  }

  function slaBadge(ticket, now) {
    if (ticket.status === "WAITING_FOR_OWNER") return { level: "paused", text: "SLA paused (waiting for owner)" };
    const [target, due] = activeDeadline(ticket);
    if (!target) return { level: "done", text: "resolved" };
    const deadline = new Date(due).getTime();
    const start = new Date(ticket.createdAt).getTime();
    const left = deadline - now;
    let level = ticket.slaState === "BREACHED" ? "breached" : ticket.slaState === "WARNING" ? "warning" : "ok";
    if (left <= 0) level = "breached";
    else if (level === "ok" && now - start >= WARNING_SHARE * (deadline - start)) level = "warning";
    const text = left > 0 ? `${target} in ${duration(left)}` : `${target} overdue ${duration(left)}`;
    return { level, text };
  }

  function technicianOptions(ticket) {
    const options = state.technicians
      .map((t) => `<option value="${escape(t.id)}" ${ticket.assignee && ticket.assignee.id === t.id ? "selected" : ""}>` +
        `${escape(t.name)}${t.onShift ? "" : " (off shift)"} · ${t.currentLoad}/${t.capacity}</option>`)
      .join("");
    return `<option value="">${ticket.assignee ? "Reassign…" : "Assign…"}</option>${options}`;
  }

  function card(ticket, now) {
    const sla = slaBadge(ticket, now);
    const assignable = ["NEW", "REOPENED", "ASSIGNED", "ACCEPTED"].includes(ticket.status);
    return `<article class="card priority-${ticket.priority.toLowerCase()}" data-ticket="${escape(ticket.id)}"
        draggable="${assignable}" data-status="${ticket.status}">
      <header><strong class="place">${escape(place(ticket))}</strong>
        <span class="priority">${escape(ticket.priority)}</span></header>
      <p class="description">${escape(ticket.description)}</p>
      <p class="facts"><span class="category">${escape(ticket.category)}</span>
        <span class="age" data-since="${escape(ticket.createdAt)}">${duration(now - new Date(ticket.createdAt).getTime())} ago</span></p>
      <p class="sla sla-${sla.level}" data-sla="${sla.level}">${escape(sla.text)}</p>
      ${ticket.assignee ? `<p class="assignee">→ ${escape(ticket.assignee.name)}</p>` : ""}
      ${ticket.status === "WAITING_FOR_OWNER" ? `<p class="tag">waiting for owner</p>` : ""}
      <footer>
        ${assignable ? `<select class="assign" aria-label="Assign to">${technicianOptions(ticket)}</select>` : ""}
        ${CANCELLABLE.has(ticket.status) ? `<button type="button" class="cancel">Cancel</button>` : ""}
      </footer>
    </article>`;
  }

  function renderColumns() {
    const now = Date.now();
    const byColumn = new Map(COLUMNS.map(([key]) => [key, []]));
    for (const ticket of state.tickets.values()) {
      const list = byColumn.get(columnOf(ticket));
      if (list) list.push(ticket);
    }
    $("#columns").innerHTML = COLUMNS.map(([key, title]) => {
      const tickets = byColumn.get(key).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      return `<section class="column" data-column="${key}">
        <h2>${title} <span class="count">${tickets.length}</span></h2>
        ${tickets.map((ticket) => card(ticket, now)).join("")}
      </section>`;
    }).join("");
  }

  function renderTechnicians() {
    const tickets = [...state.tickets.values()];
    $("#technicians").innerHTML = state.technicians.map((t) => {
      const theirs = tickets.filter((ticket) => ticket.assignee && ticket.assignee.id === t.id);
      const where = t.currentLocation || t.home;
      return `<li class="technician ${t.onShift ? "on-shift" : "off-shift"}" data-technician="${escape(t.id)}">
        <header><strong>${escape(t.name)}</strong>
          <span class="shift">${t.onShift ? "on shift" : "off shift"}</span>
          <span class="load">${t.currentLoad}/${t.capacity}</span></header>
        <p class="skills">${t.skills.map(escape).join(" · ")}</p>
        <p class="location">${where.latitude.toFixed(4)}, ${where.longitude.toFixed(4)}</p>
        <ul class="their-tickets">${theirs.map((ticket) =>
          `<li data-ticket="${escape(ticket.id)}">${escape(place(ticket))} · ${escape(ticket.status.toLowerCase())}</li>`).join("")}</ul>
      </li>`;
    }).join("");
  }

  // The map frames the project's buildings; technicians further out sit on the frame's edge, hollow, with
  // their distance in the tooltip, so the dispatcher still sees from which side they would come.
  function renderMap() {
    const svg = $("#map");
    const buildings = [...state.buildings.values()].filter((b) => b.latitude != null);
    if (!buildings.length) {
      svg.innerHTML = "";
      return;
    }
    const lats = buildings.map((b) => b.latitude);
    const lngs = buildings.map((b) => b.longitude);
    const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
    const midLng = (Math.min(...lngs) + Math.max(...lngs)) / 2;
    const half = Math.max(Math.max(...lats) - Math.min(...lats), Math.max(...lngs) - Math.min(...lngs), 0.002) * 0.8;
    const x = (lng) => 180 + ((lng - midLng) / half) * 150;
    const y = (lat) => 120 - ((lat - midLat) / half) * 100;
    const clamp = (value, low, high) => Math.min(Math.max(value, low), high);
    const parts = [];
    for (const building of buildings) {
      parts.push(`<g class="building" data-building="${escape(building.id)}">
        <rect x="${x(building.longitude) - 9}" y="${y(building.latitude) - 9}" width="18" height="18" rx="2"></rect>
        <text x="${x(building.longitude)}" y="${y(building.latitude) + 22}">${escape(building.name)}</text></g>`);
    }
    const now = Date.now();
    const ticketsPerBuilding = new Map();
    for (const ticket of state.tickets.values()) {
      const building = buildingOf(ticket);
      if (!building || building.latitude == null) continue;
      const index = ticketsPerBuilding.get(building.id) || 0;
      ticketsPerBuilding.set(building.id, index + 1);
      const angle = index * 0.9;
      const cx = x(building.longitude) + Math.cos(angle) * (13 + index);
      const cy = y(building.latitude) + Math.sin(angle) * (13 + index);
      parts.push(`<circle class="ticket sla-${slaBadge(ticket, now).level}" data-ticket="${escape(ticket.id)}" cx="${cx}" cy="${cy}" r="4">
        <title>${escape(place(ticket))}: ${escape(ticket.status)}</title></circle>`);
    }
    for (const t of state.technicians) {
      const where = t.currentLocation || t.home;
      const [rawX, rawY] = [x(where.longitude), y(where.latitude)];
      const [tx, ty] = [clamp(rawX, 8, 352), clamp(rawY, 10, 232)];
      const far = tx !== rawX || ty !== rawY;
      const km = distanceKm(where.latitude, where.longitude, midLat, midLng);
      parts.push(`<g class="technician ${t.onShift ? "on-shift" : "off-shift"} ${far ? "far" : ""}" data-technician="${escape(t.id)}">
        <polygon points="${tx},${ty - 7} ${tx - 6},${ty + 5} ${tx + 6},${ty + 5}"></polygon>
        <title>${escape(t.name)} · ${t.currentLoad}/${t.capacity} · ${km.toFixed(1)} km away</title></g>`);
    }
    svg.innerHTML = parts.join("");
  }

  function distanceKm(lat1, lng1, lat2, lng2) {
    const rad = Math.PI / 180;
    const dLat = (lat2 - lat1) * rad;
    const dLng = (lng2 - lng1) * rad;
    const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLng / 2) ** 2;
    return 12742 * Math.asin(Math.sqrt(a));
  }

  function render() {
    renderColumns();
    renderTechnicians();
    renderMap();
  }

  function remember(ticket) {
    const current = state.tickets.get(ticket.id);
    // Events can be replayed after a fresher snapshot: never let an older version of a ticket win.
    if (current && current.version > ticket.version) return;
    const building = buildingOf(ticket);
    if (building) state.buildings.set(building.id, building);
    if (OPEN.includes(ticket.status)) state.tickets.set(ticket.id, ticket);
    else state.tickets.delete(ticket.id);
  }

  async function loadTechnicians() {
    const { technicians } = await gql(TECHNICIANS, { projectId: state.project.id });
    state.technicians = technicians;
  }

  let techniciansRefresh = null;
  function refreshTechniciansSoon() {
    clearTimeout(techniciansRefresh);
    techniciansRefresh = setTimeout(async () => {
      try {
        await loadTechnicians();
        render();
      } catch (error) {
        showError(error.message);
      }
    }, 250);
  }

  async function loadSnapshot() {
    let after = null;
    let lastSeq = 0;
    do {
      const { tickets } = await gql(TICKETS, { projectId: state.project.id, status: OPEN, after });
      for (const { node } of tickets.edges) {
        for (const event of node.events) lastSeq = Math.max(lastSeq, event.seq);
        remember(node);
      }
      after = tickets.pageInfo.hasNextPage ? tickets.pageInfo.endCursor : null;
    } while (after);
    await loadTechnicians();
    after = null;
    for (let page = 0; page < 20; page += 1) {
      const { units } = await gql(BUILDINGS, { projectId: state.project.id, after });
      for (const { node } of units.edges) state.buildings.set(node.building.id, node.building);
      if (!units.pageInfo.hasNextPage) break;
      after = units.pageInfo.endCursor;
    }
    return lastSeq;
  }

  async function act(mutation, variables) {
    showError("");
    const data = await gql(mutation, variables);
    const result = Object.values(data)[0];
    if (result.message) showError(result.message);
    return result;
  }

  function wireActions() {
    const columns = $("#columns");
    columns.addEventListener("change", async (event) => {
      if (!event.target.matches("select.assign") || !event.target.value) return;
      const ticketId = event.target.closest(".card").dataset.ticket;
      await act(ASSIGN, { ticketId, technicianId: event.target.value }).catch((error) => showError(error.message));
    });
    columns.addEventListener("click", async (event) => {
      if (!event.target.matches("button.cancel")) return;
      const ticketId = event.target.closest(".card").dataset.ticket;
      if (!window.confirm("Cancel this ticket?")) return;
      await act(CANCEL, { ticketId }).catch((error) => showError(error.message));
    });
    columns.addEventListener("dragstart", (event) => {
      const card = event.target.closest(".card");
      if (!card) return;
      state.dragged = card.dataset.ticket;
      event.dataTransfer.setData("text/plain", state.dragged);
    });
    const technicians = $("#technicians");
    technicians.addEventListener("dragover", (event) => {
      if (event.target.closest(".technician")) event.preventDefault();
    });
    technicians.addEventListener("drop", async (event) => {
      const row = event.target.closest(".technician");
      const ticketId = event.dataTransfer.getData("text/plain") || state.dragged;
      if (!row || !ticketId) return;
      event.preventDefault();
      await act(ASSIGN, { ticketId, technicianId: row.dataset.technician }).catch((error) => showError(error.message));
    });

    const dialog = $("#plan");
    $("#optimise").addEventListener("click", async () => {
      try {
        const plan = await act(OPTIMISE, { projectId: state.project.id, apply: false });
        if (plan.__typename === "DispatchPlan") showPlan(plan);
      } catch (error) {
        showError(error.message);
      }
    });
    $("#plan-discard").addEventListener("click", () => dialog.close());
    $("#plan-apply").addEventListener("click", async () => {
      dialog.close();
      await act(OPTIMISE, { projectId: state.project.id, apply: true }).catch((error) => showError(error.message));
    });
  }

  function label(ticketId) {
    const ticket = state.tickets.get(ticketId);
    return ticket ? place(ticket) : ticketId;
  }

  function technicianName(technicianId) {
    const technician = state.technicians.find((t) => t.id === technicianId);
    return technician ? technician.name : technicianId;
  }

  function showPlan(plan) {
    const moves = plan.assignments.filter((a) => a.changes);
    $("#plan-summary").textContent = moves.length
      ? `${moves.length} change(s); ${plan.assignments.length - moves.length} ticket(s) stay where they are.`
      : "The current assignments are already the best plan.";
    $("#plan-rows").innerHTML = plan.assignments.map((a) => `<tr class="${a.changes ? "moves" : "stays"}" data-ticket="${escape(a.ticketId)}">
      <td>${escape(label(a.ticketId))}</td><td>${escape(technicianName(a.technicianId))}</td>
      <td>${(a.cost.distanceMeters / 1000).toFixed(1)} km</td><td>${a.changes ? "change" : "stays"}</td></tr>`).join("");
    $("#plan-unassigned").innerHTML = plan.unassigned
      .map((u) => `<li>${escape(label(u.ticketId))}: ${escape(u.reason)}</li>`).join("");
    $("#plan-apply").disabled = !moves.length;
    $("#plan").showModal();
  }

  function setStatus(status) {
    const badge = $("#live-status");
    badge.dataset.status = status;
    badge.textContent = status;
  }

  async function start() {
    const { viewer } = await gql(VIEWER);
    const role = viewer.roles.find((r) => r.role === "DISPATCHER" || r.role === "ADMIN");
    if (!role) throw new Error("This login is not a dispatcher or admin of any project.");
    state.project = role.project;
    $("#project-name").textContent = `· ${role.project.name}`;
    const lastSeq = await loadSnapshot();
    $("#board").hidden = false;
    $("#optimise").hidden = false;
    render();
    wireActions();
    const client = liveClient(setStatus);
    follow(client, BOARD, { projectId: state.project.id, afterSeq: lastSeq }, {
      onEvent(event) {
        if (event.ticket) remember(event.ticket);
        render();
        refreshTechniciansSoon();
      },
      onError(error) {
        showError(`${error.message} — reload the page to log in again.`);
        setStatus("stopped");
      },
    });
    // Ages and countdowns move on their own; the data only changes with events.
    setInterval(tick, 1000);
  }

  // Updates ages and SLA countdowns in place (re-rendering would close an open <select>).
  function tick() {
    const now = Date.now();
    for (const element of document.querySelectorAll("#columns .card")) {
      const ticket = state.tickets.get(element.dataset.ticket);
      if (!ticket) continue;
      element.querySelector(".age").textContent = `${duration(now - new Date(ticket.createdAt).getTime())} ago`;
      const sla = slaBadge(ticket, now);
      const badge = element.querySelector(".sla");
      badge.className = `sla sla-${sla.level}`;
      badge.dataset.sla = sla.level;
      badge.textContent = sla.text;
    }
  }

  loginForm($("#login"), start);
})();
