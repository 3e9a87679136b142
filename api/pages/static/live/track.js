// An owner following their repair: the steps so far, live, the promise of when someone will come, and
// confirming (with a rating) or reopening once it is resolved.
"use strict";

(() => {
  const { clock, escape, follow, gql, liveClient, loginForm } = Courtyard;

  const TICKET = `query($id: ID!) {
    node(id: $id) {
      ... on Ticket {
        id status version description locationKind locationDetail createdAt onSiteDueAt resolveDueAt allowedActions rating
        project { timezone }
        unit { number building { name } }
        building { name }
        assignee { name }
      }
    }
  }`;
  const UPDATES = `subscription($ticketId: ID!, $afterSeq: Int) {
    ticketUpdates(ticketId: $ticketId, afterSeq: $afterSeq) {
      seq type at actorRole note technician { name }
      ticket { status version onSiteDueAt resolveDueAt allowedActions rating assignee { name } }
    }
  }`;
  const TRANSITION = `mutation($ticketId: ID!, $action: TicketAction!, $note: String, $details: TransitionDetailsInput) {
    transitionTicket(ticketId: $ticketId, action: $action, note: $note, details: $details) {
      __typename ... on Error { message }
    }
  }`;

  // The steps of a repair, in order; each is reached by one kind of event.
  const STEPS = [
    ["SUBMITTED", "Submitted"],
    ["ASSIGNED", "Assigned"],
    ["ACCEPTED", "Accepted"],
    ["CHECKED_IN", "On site"],
    ["STARTED", "In progress"],
    ["RESOLVED", "Resolved"],
    ["CLOSED", "Confirmed"],
  ];
  const STEP_OF = { REASSIGNED: "ASSIGNED" };
  // Events that send the ticket back to be dispatched: the steps after submission start over.
  const BACK_TO_DISPATCH = new Set(["REOPENED", "UNASSIGNED", "REJECTED", "ESCALATED"]);
  const WORDS = {
    SUBMITTED: "You reported the fault",
    TRIAGED: "A dispatcher looked at it",
    ASSIGNED: "A technician was assigned",
    REASSIGNED: "Another technician was assigned",
    UNASSIGNED: "Waiting for a technician again",
    ESCALATED: "Looking for another technician",
    ACCEPTED: "The technician accepted",
    REJECTED: "The technician could not take it; finding another",
    CHECKED_IN: "The technician arrived",
    STARTED: "Work started",
    WAITING_FOR_OWNER: "The technician is waiting for you",
    RESUMED: "Work resumed",
    RESOLVED: "The technician finished",
    CLOSED: "You confirmed the repair",
    REOPENED: "Reopened",
    CANCELLED: "Cancelled",
    SLA_WARNING: "Running close to the promised time",
    SLA_BREACHED: "Later than promised",
    CATEGORY_CHANGED: "Category corrected",
    PRIORITY_CHANGED: "Urgency changed",
    ATTACHMENT_ADDED: "Photo added",
    COMMENTED: "Note added",
  };

  const ticketId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
  const state = { ticket: null, timeZone: "Asia/Shanghai", events: [], rating: 0 };
  const $ = (selector) => document.querySelector(selector);

  function showError(message) {
    const box = $("#track-error");
    box.textContent = message;
    box.hidden = !message;
  }

  // "15:40" today, "tomorrow 01:18", "11-26 09:00" otherwise, in the project's time zone.
  function when(iso) {
    const date = new Date(iso);
    const dayOf = (moment) => new Intl.DateTimeFormat("en-CA", { timeZone: state.timeZone }).format(moment);
    const day = dayOf(date);
    if (day === dayOf(new Date())) return clock(date, state.timeZone);
    if (day === dayOf(new Date(Date.now() + 86400000))) return `tomorrow ${clock(date, state.timeZone)}`;
    return `${day.slice(5)} ${clock(date, state.timeZone)}`;
  }

  function promise(ticket) {
    switch (ticket.status) {
      case "TRIAGE":
      case "NEW":
      case "REOPENED":
      case "ASSIGNED":
      case "ACCEPTED":
        return `A technician will be with you by ${when(ticket.onSiteDueAt)}.`;
      case "ON_SITE":
      case "IN_PROGRESS":
        return `The repair should be done by ${when(ticket.resolveDueAt)}.`;
      case "WAITING_FOR_OWNER":
        return "The technician is waiting for you: please get in touch.";
      case "RESOLVED":
        return "The technician says it is fixed. Is it?";
      case "CLOSED":
        return "Done. Thank you!";
      default:
        return "This repair was cancelled.";
    }
  }

  // When each step was (last) reached; steps after submission start over when the ticket goes back to dispatch.
  function reachedSteps() {
    const reached = new Map();
    let technician = null;
    for (const event of state.events) {
      if (BACK_TO_DISPATCH.has(event.type)) {
        for (const [step] of STEPS.slice(1)) reached.delete(step);
        continue;
      }
      const step = STEP_OF[event.type] || event.type;
      if (STEPS.some(([key]) => key === step)) reached.set(step, event.at);
      if (step === "ASSIGNED" && event.technician) technician = event.technician.name;
    }
    return { reached, technician };
  }

  function render() {
    const ticket = state.ticket;
    $("#promise").textContent = promise(ticket);
    const { reached, technician } = reachedSteps();
    const cancelled = ticket.status === "CANCELLED";
    $("#timeline").innerHTML = STEPS.map(([key, title]) => {
      const at = reached.get(key);
      const name = key === "ASSIGNED" && at && technician ? ` to ${technician}` : "";
      return `<li class="step ${at ? "done" : cancelled ? "skipped" : "pending"}" data-step="${key}">
        <span class="dot"></span><span class="title">${escape(title + name)}</span>
        <time>${at ? escape(when(at)) : ""}</time></li>`;
    }).join("");
    $("#history").innerHTML = state.events.map((event) =>
      `<li data-seq="${event.seq}"><time>${escape(when(event.at))}</time> ${escape(WORDS[event.type] || event.type)}` +
      `${event.technician && event.type.endsWith("ASSIGNED") ? ` (${escape(event.technician.name)})` : ""}` +
      `${event.note ? `: “${escape(event.note)}”` : ""}</li>`).join("");
    const canConfirm = ticket.allowedActions.includes("CONFIRM");
    $("#resolved-actions").hidden = !canConfirm;
    $("#reopen").hidden = !ticket.allowedActions.includes("REOPEN");
    const closed = $("#closed-note");
    closed.hidden = !["CLOSED", "CANCELLED"].includes(ticket.status);
    closed.textContent = ticket.status === "CLOSED" && ticket.rating ? `You rated it ${"★".repeat(ticket.rating)}` : "";
  }

  function setStatus(status) {
    const badge = $("#live-status");
    badge.dataset.status = status;
    badge.textContent = status;
  }

  async function transition(action, note, details) {
    showError("");
    try {
      const { transitionTicket: result } = await gql(TRANSITION, { ticketId, action, note, details });
      if (result.__typename !== "Ticket") showError(result.message);
    } catch (error) {
      showError(error.message);
    }
  }

  function wireActions() {
    for (const star of document.querySelectorAll(".rating button")) {
      star.addEventListener("click", () => {
        state.rating = Number(star.dataset.rating);
        for (const other of document.querySelectorAll(".rating button")) {
          other.classList.toggle("chosen", Number(other.dataset.rating) <= state.rating);
        }
        $("#confirm").disabled = false;
      });
    }
    $("#confirm").addEventListener("click", () => {
      const comment = $("#comment").value.trim();
      transition("CONFIRM", null, { rating: state.rating, comment: comment || null });
    });
    $("#reopen").addEventListener("click", () => {
      transition("REOPEN", $("#comment").value.trim() || "Still not fixed.", null);
    });
  }

  async function start() {
    const { node } = await gql(TICKET, { id: ticketId });
    if (!node || !node.status) throw new Error("No such repair among yours.");
    state.ticket = node;
    state.timeZone = node.project.timezone;
    const where = node.unit ? `${node.unit.building.name} ${node.unit.number}` : node.building ? node.building.name : "";
    $("#place").textContent = `${where}${node.locationDetail ? ` · ${node.locationDetail}` : ""}`;
    $("#description").textContent = node.description;
    $("#repair").hidden = false;
    render();
    wireActions();
    follow(liveClient(setStatus), UPDATES, { ticketId, afterSeq: 0 }, {
      onEvent(event) {
        state.events.push(event);
        if (event.ticket && event.ticket.version >= state.ticket.version) state.ticket = { ...state.ticket, ...event.ticket };
        render();
      },
      onError(error) {
        showError(`${error.message} — reload the page to log in again.`);
        setStatus("stopped");
      },
    });
  }

  loginForm($("#login"), start);
})();
