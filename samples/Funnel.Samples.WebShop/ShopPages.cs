using System.Globalization;
using System.Text;
using Funnel.AspNetCore;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Samples.EbookMasterclass;
using Funnel.Sequences;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Text;

namespace Funnel.Samples.WebShop;

/// <summary>The shop's pages: blog post, inbox notice, dev outbox, sales page, checkout, upsell, thank-you and admin.</summary>
internal static class ShopPages
{
    private static readonly string[] UtmKeys = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"];

    private const string FormScript = """
        <script>
          try{document.getElementById('tz').value=Intl.DateTimeFormat().resolvedOptions().timeZone||'';}catch(e){}
          document.getElementById('ref').value=document.referrer;
        </script>
        """;

    private const string CountdownScript = """
        <script>
          (function(){var el=document.getElementById('countdown');var end=+el.dataset.end;function tick(){var s=Math.max(0,Math.floor((end-Date.now())/1000));
          el.textContent=Math.floor(s/86400)+'d '+Math.floor(s%86400/3600)+'h '+Math.floor(s%3600/60)+'m '+(s%60)+'s';}tick();setInterval(tick,1000);})();
        </script>
        """;

    public static void MapShop(this WebApplication app)
    {
        app.MapGet("/", () => Results.Redirect(ShopFunnel.BlogPost));
        app.MapGet(ShopFunnel.BlogPost, BlogPost);
        app.MapGet("/check-your-inbox", CheckYourInbox);
        app.MapGet("/guide", Guide);
        app.MapGet("/dev/outbox", Outbox);
        app.MapGet("/sales", SalesPageAsync);
        app.MapGet("/checkout", CheckoutPageAsync);
        app.MapPost("/checkout", PlaceOrderAsync).DisableAntiforgery();
        app.MapGet("/upsell", UpsellPageAsync);
        app.MapPost("/upsell", UpsellAnswerAsync).DisableAntiforgery();
        app.MapGet("/thank-you", ThankYouAsync);
        app.MapGet("/admin", AdminAsync);
    }

    private static IResult BlogPost(HttpContext context)
    {
        IQueryCollection q = context.Request.Query;
        string utm = string.Concat(UtmKeys
            .Where(k => !string.IsNullOrEmpty(q[k]))
            .Select(k => $"""<input type="hidden" name="{k}" value="{Html.Encode(q[k])}">"""));
        string body = $"""
            <article class="card">
              <p class="muted">Blog · 6 minute read</p>
              <h1>How to write a best-selling e-book in 30 days</h1>
              <p>Most e-books never get finished. Not for lack of ideas, but for lack of a plan: an outline you trust, a daily word
              count you can keep, and a launch you prepare while you write. This post walks you through the 30-day plan our
              students use, from the first outline to the launch email.</p>
              <h2>Week 1: the outline</h2><p>Pick one reader and one problem. Write the ten questions that reader asks, and make each one a chapter.</p>
              <h2>Week 2–3: the draft</h2><p>Write 1,000 words a day. Don't edit. Momentum beats polish at this stage.</p>
              <h2>Week 4: edit and launch</h2><p>Edit in two passes, design the cover, and tell your list what is coming.</p>
            </article>
            <section class="card optin" id="optin">
              <h2>Get the free E-Book Quick-Start Guide</h2>
              <p>The checklist, the outline template and the 30-day calendar in one PDF. We email it to you.</p>
              <form method="post" action="/funnel/opt-in" id="optin-form">
                {Html.AntiforgeryField(context)}
                <input type="hidden" name="magnet" value="{ShopFunnel.Guide.Key}">
                <input type="hidden" name="timezone" id="tz"><input type="hidden" name="referrer" id="ref">
                {utm}
                <div class="hp" aria-hidden="true"><label>Leave this empty <input type="text" name="website" tabindex="-1" autocomplete="off"></label></div>
                <p><label>Your email<br><input type="email" name="email" required placeholder="you@example.com"></label></p>
                <p class="muted">{Html.Encode(ShopFunnel.Guide.ConsentText)}</p>
                <button class="btn" type="submit">Send me the guide</button>
              </form>
              {FormScript}
            </section>
            """;
        return Html.Page("How to write a best-selling e-book in 30 days", body, track: true);
    }

    private static IResult CheckYourInbox(ShopMailSettings mail) => Html.Page("Check your inbox", $"""
        <div class="card"><h1>Check your inbox</h1>
        <p>We sent you an email with a confirmation link. Click it and the guide is yours — and you get a look at the Masterclass.</p>
        <p class="muted">{MailboxHint(mail)}</p></div>
        """, track: true);

    private static string MailboxHint(ShopMailSettings mail) => (mail.Smtp4devUi, mail.SmtpServer) switch
    {
        ({ } ui, _) => $"""This sample sends real email to the smtp4dev it started: read it in <a id="smtp4dev" href="{Html.Encode(ui.AbsoluteUri)}">smtp4dev's inbox</a>.""",
        (null, { } server) => $"This sample sends real email through the SMTP server at {Html.Encode(server)}.",
        _ => """This sample found no mail server: the emails wait in the <a href="/dev/outbox">dev outbox</a>.""",
    };

    private static IResult Guide() => Html.Page("The E-Book Quick-Start Guide", """
        <div class="card"><p class="muted">Your free guide</p><h1>The E-Book Quick-Start Guide</h1>
        <ol><li>Pick one reader and one problem.</li><li>Write the ten questions that reader asks: they are your chapters.</li>
        <li>Write 1,000 words a day for three weeks; don't edit yet.</li><li>Edit in two passes, design the cover, tell your list.</li></ol>
        <p>Want the whole system, with templates and a community? <a class="btn" href="/sales">See the Masterclass</a></p></div>
        """, track: true);

    private static IResult Outbox(IServiceProvider services)
    {
        var rows = new StringBuilder();
        DevOutbox? outbox = services.GetService<DevOutbox>();
        foreach (OutboxMessage m in outbox?.Snapshot() ?? [])
        {
            string links = string.Join(" ", m.Links.Select(uri => uri == m.ConfirmationLink
                ? $"""<a class="confirm-link" href="{Html.Encode(uri.ToString())}">Confirm and get the guide</a>"""
                : $"""<a class="mail-link" href="{Html.Encode(uri.ToString())}">{Html.Encode(uri.AbsolutePath)}</a>"""));
            rows.Append(CultureInfo.InvariantCulture, $"<tr><td>{Html.Encode(m.To)}</td><td class=\"subject\">{Html.Encode(m.Subject)}</td><td>{links}</td></tr>");
        }

        return Html.Page("Dev outbox", $"""
            <div class="card"><h1>Dev outbox</h1><p class="muted">Emails the shop would send. A real app sends them through its mail server.</p>
            <table><thead><tr><th>To</th><th>Subject</th><th>Link</th></tr></thead><tbody>{rows}</tbody></table></div>
            """);
    }

    private static async Task<IResult> SalesPageAsync(HttpContext context, FunnelEventRecorder recorder, DeadlineTracker deadlines, IClock clock, Catalogue catalogue, IOptions<FunnelAspNetCoreOptions> options, CancellationToken cancellationToken)
    {
        LeadId lead = Visitor.Ensure(context, options.Value);
        var visited = new SalesPageVisited { LeadId = lead, OccurredAt = clock.GetCurrentInstant(), Offer = OfferPathCatalogue.Basic };
        await recorder.RecordAsync([visited], cancellationToken);
        DeadlineStatus bonus = await deadlines.ObserveAsync(OfferPathCatalogue.EnrollThisWeek, visited, cancellationToken);

        Offer basic = catalogue.Offers.Single(o => o.Id == OfferPathCatalogue.Basic);
        Offer premium = catalogue.Offers.Single(o => o.Id == OfferPathCatalogue.Premium);
        Offer mini = catalogue.Offers.Single(o => o.Id == OfferPathCatalogue.MiniKit);
        string deadline = bonus is { IsOpen: true, EndsAt: { } end }
            ? $"""
              <p class="deadline" id="deadline"><b>Enroll this week</b> and get a free 30-minute e-book strategy call. The bonus ends
              <time datetime="{InstantPattern.General.Format(end)}">{Html.Encode(InstantPattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd HH':'mm 'UTC'").Format(end))}</time>
              — <span id="countdown" data-end="{end.ToUnixTimeMilliseconds()}">{Remaining(bonus.RemainingAt(clock.GetCurrentInstant())!.Value)}</span> left.</p>
              {CountdownScript}
              """
            : """<p class="deadline" id="deadline">The enroll-this-week bonus has ended, but the Masterclass is still open.</p>""";
        string body = $"""
            <div class="card"><p class="muted">The E-Book Masterclass</p><h1>Write, publish and sell your e-book — with a plan that works</h1>
            <p>Video lessons, templates and a community that keeps you writing. Join 1,000+ authors who finished their book.</p>{deadline}</div>
            <div class="tiers">
              <div class="tier featured" data-offer="{basic.Id}"><h2>{Html.Encode(basic.Name)}</h2><div class="price">{Html.Usd(basic.Price)}</div>
                <p class="muted">or {PlanText(basic)}</p>
                <ul><li>All video lessons</li><li>Templates and checklists</li><li>Private community access</li></ul>
                <a class="btn" id="buy-basic" href="/checkout?offer={basic.Id}">Enroll now</a>
                <a class="btn secondary" href="/checkout?offer={basic.Id}&amp;plan={basic.PaymentPlans[0].Key}">Pay in 3</a></div>
              <div class="tier" data-offer="{premium.Id}"><h2>{Html.Encode(premium.Name)}</h2><div class="price">{Html.Usd(premium.Price)}</div>
                <p class="muted">or {PlanText(premium)}</p>
                <ul><li>Everything in Basic</li><li>1-on-1 strategy session</li><li>Advanced Marketing Blueprint</li></ul>
                <p class="muted">Offered as a one-click upgrade right after you enroll.</p></div>
              <div class="tier" data-offer="{mini.Id}"><h2>{Html.Encode(mini.Name)}</h2><div class="price">{Html.Usd(mini.Price)}</div>
                <p class="muted">one-time</p><ul><li>5-part video series on e-book outlines</li><li>3 e-book templates</li></ul>
                <p class="muted">For a lighter start: offered if the Masterclass is not for you yet.</p></div>
            </div>
            """;
        return Html.Page("The E-Book Masterclass", body, track: true);
    }

    private static async Task<IResult> CheckoutPageAsync(HttpContext context, string? offer, string? plan, OrderService orders, Catalogue catalogue, IOptions<FunnelAspNetCoreOptions> options)
    {
        Visitor.Ensure(context, options.Value);
        OfferPath path = orders.Path;
        if (offer != path.Entry.Value)
        {
            return Html.Error("Unknown offer", "Choose an offer on the sales page.", StatusCodes.Status404NotFound);
        }

        Offer main = catalogue.Offers.Single(o => o.Id == path.Entry);
        PaymentPlan? chosen = main.PaymentPlans.FirstOrDefault(p => p.Key == plan);
        if (plan is not null && chosen is null)
        {
            return Html.Error("Unknown payment plan", $"The payment plan '{plan}' does not exist.", StatusCodes.Status400BadRequest);
        }

        string bump = string.Empty;
        if (path.Next(main.Id, OfferTransition.OnCheckoutForm) is { } bumpId)
        {
            Offer b = catalogue.Offers.Single(o => o.Id == bumpId);
            bump = $"""
                <label class="bump"><input type="checkbox" name="bump" value="{b.Id}" id="bump"> <b>Yes, add the {Html.Encode(b.Name)} for just {Html.Usd(b.Price)}</b><br>
                <span class="muted">Ten professional cover templates for your e-book. One time only, on this page.</span></label>
                """;
        }

        await Task.CompletedTask;
        string price = chosen is null ? Html.Usd(main.Price) : $"{chosen.Installments} × {Html.Usd(chosen.InstallmentAmount)}";
        string body = $"""
            <div class="card"><h1>Checkout</h1>
            <form method="post" action="/checkout" id="checkout-form">
              {Html.AntiforgeryField(context)}
              <input type="hidden" name="offer" value="{main.Id}"><input type="hidden" name="plan" value="{Html.Encode(chosen?.Key)}">
              <table><tr><td>{Html.Encode(main.Name)}</td><td class="num">{price}</td></tr></table>
              {bump}
              <p><label>Card number<br><input name="card" id="card" inputmode="numeric" autocomplete="cc-number" required placeholder="4242 4242 4242 4242"></label></p>
              <p class="muted">Test mode: no card is charged. Use 4242 4242 4242 4242; 4000 0000 0000 0002 is declined.</p>
              <button class="btn" type="submit" id="pay">Complete my order</button>
            </form></div>
            """;
        return Html.Page("Checkout", body, track: true);
    }

    private static async Task<IResult> PlaceOrderAsync(HttpContext context, IAntiforgery antiforgery, OrderService orders, PaymentService payments, ILeadStore leads, IOptions<FunnelAspNetCoreOptions> options, CancellationToken cancellationToken)
    {
        if (await RejectForgeryAsync(context, antiforgery) is { } forged)
        {
            return forged;
        }

        if (Visitor.Read(context, options.Value) is not { } lead)
        {
            return Html.Error("Your session expired", "Start again from the sales page.", StatusCodes.Status400BadRequest);
        }

        IFormCollection form = await context.Request.ReadFormAsync(cancellationToken);
        if (form["offer"] != orders.Path.Entry.Value)
        {
            return Html.Error("Unknown offer", "Choose an offer on the sales page.", StatusCodes.Status400BadRequest);
        }

        if (CheckoutPayment.NormalizeCard(form["card"]) is not { } card)
        {
            return Html.Error("Check the card number", "Enter a card number of 12 to 19 digits, such as the test card 4242 4242 4242 4242.", StatusCodes.Status400BadRequest);
        }

        string? plan = string.IsNullOrEmpty(form["plan"]) ? null : form["plan"].ToString();
        List<CartLine> lines = [new(orders.Path.Entry, 1, plan)];
        if (orders.Path.Next(orders.Path.Entry, OfferTransition.OnCheckoutForm) is { } bump && form["bump"] == bump.Value)
        {
            lines.Add(new(bump));
        }

        DateTimeZone zone = await ZoneOfAsync(leads, lead, cancellationToken);
        Checkout checkout;
        try
        {
            checkout = await orders.StartCheckoutAsync(lead, new Cart { Lines = [.. lines] }, zone, cancellationToken);
        }
        catch (ArgumentException ex)
        {
            return Html.Error("The order was not valid", ex.Message, StatusCodes.Status400BadRequest);
        }

        if (checkout.Rejection is { } rejected)
        {
            return Html.Error("We could not start your order", Describe(rejected), StatusCodes.Status409Conflict);
        }

        OrderResult placed = await orders.PlaceOrderAsync(checkout, paymentMethod: null, cancellationToken);
        if (placed.Order is not { } order)
        {
            return Html.Error("We could not place your order", Describe(placed.Rejection!.Value), StatusCodes.Status409Conflict);
        }

        PaymentAttempt paid = await payments.PayAsync(order.Id, card, cancellationToken);
        if (paid.Payment?.Outcome != PaymentOutcome.Succeeded)
        {
            return Html.Error("The payment did not go through", CheckoutPayment.DescribeDecline(paid.Payment?.DeclineCode), StatusCodes.Status402PaymentRequired);
        }

        return SeeOther(context, $"/upsell?order={order.Id.Value:N}");
    }

    private static async Task<IResult> UpsellPageAsync(HttpContext context, string? order, string? offer, IOrderStore store, OrderService orders, Catalogue catalogue, IOptions<FunnelAspNetCoreOptions> options, CancellationToken cancellationToken)
    {
        if (await OwnOrderAsync(context, order, store, options.Value, cancellationToken) is not { } parent)
        {
            return Html.Error("Order not found", "This order does not exist or is not yours.", StatusCodes.Status404NotFound);
        }

        OfferId? next = orders.Path.Next(parent.MainOffer, OfferTransition.Purchased);
        Offer? shown = offer is null
            ? catalogue.Offers.FirstOrDefault(o => o.Id == next)
            : catalogue.Offers.FirstOrDefault(o => o.Id.Value == offer && o.Role is OfferRole.Upsell or OfferRole.Downsell);
        if (shown is null)
        {
            return SeeOther(context, $"/thank-you?order={parent.Id.Value:N}");
        }

        string pitch = shown.Role == OfferRole.Upsell
            ? "Wait! Upgrade your order with one click — no need to enter your card again."
            : "No problem. Would a lighter start suit you better?";
        string body = $"""
            <div class="card"><p class="muted">Your order is confirmed. One more thing…</p><h1>{Html.Encode(pitch)}</h1>
            <h2 data-offer="{shown.Id}">{Html.Encode(shown.Name)} — {Html.Usd(shown.Price)}</h2>
            <form method="post" action="/upsell">{Html.AntiforgeryField(context)}
              <input type="hidden" name="order" value="{parent.Id.Value:N}"><input type="hidden" name="offer" value="{shown.Id}">
              <button class="btn accept" name="answer" value="accept" id="accept">Yes, add it to my order</button>
              <button class="btn secondary" name="answer" value="decline" id="decline">No thanks</button>
            </form></div>
            """;
        return Html.Page(shown.Role == OfferRole.Upsell ? "Upgrade" : "A lighter start", body, track: true);
    }

    private static async Task<IResult> UpsellAnswerAsync(HttpContext context, IAntiforgery antiforgery, IOrderStore store, OrderService orders, PaymentService payments, ILeadStore leads, IOptions<FunnelAspNetCoreOptions> options, CancellationToken cancellationToken)
    {
        if (await RejectForgeryAsync(context, antiforgery) is { } forged)
        {
            return forged;
        }

        IFormCollection form = await context.Request.ReadFormAsync(cancellationToken);
        if (await OwnOrderAsync(context, form["order"], store, options.Value, cancellationToken) is not { } parent)
        {
            return Html.Error("Order not found", "This order does not exist or is not yours.", StatusCodes.Status404NotFound);
        }

        var offer = new OfferId(form["offer"].ToString());
        string thankYou = $"/thank-you?order={parent.Id.Value:N}";
        try
        {
            if (form["answer"] == "accept")
            {
                // One click: the card saved with the first order is charged off session; the buyer enters nothing.
                PaymentAttempt accepted = await payments.AcceptUpsellAsync(parent.Id, offer, await ZoneOfAsync(leads, parent.Lead, cancellationToken), cancellationToken: cancellationToken);
                if (accepted.Payment is { Outcome: not PaymentOutcome.Succeeded } refused)
                {
                    return Html.Error("The payment did not go through", CheckoutPayment.DescribeDecline(refused.DeclineCode), StatusCodes.Status402PaymentRequired);
                }

                return SeeOther(context, thankYou);
            }

            UpsellDecision declined = await orders.DeclineUpsellAsync(parent.Id, offer, cancellationToken);
            return SeeOther(context, declined.Next is { } downsell ? $"/upsell?order={parent.Id.Value:N}&offer={downsell}" : thankYou);
        }
        catch (ArgumentException ex)
        {
            return Html.Error("That offer is not available", ex.Message, StatusCodes.Status400BadRequest);
        }
    }

    private static async Task<IResult> ThankYouAsync(HttpContext context, string? order, IOrderStore store, IFunnelEventLog log, ShopEntitlements entitlements, Catalogue catalogue, IOptions<FunnelAspNetCoreOptions> options, CancellationToken cancellationToken)
    {
        if (await OwnOrderAsync(context, order, store, options.Value, cancellationToken) is not { } parent)
        {
            return Html.Error("Order not found", "This order does not exist or is not yours.", StatusCodes.Status404NotFound);
        }

        // The receipt of this purchase: the order and the upsells and downsells taken after it, not the lead's earlier purchases.
        // The lead's order_placed events name the orders; any store answers FindAsync.
        List<Order> all = [parent];
        foreach (OrderPlaced placed in (await log.ReadLeadAsync(parent.Lead, 1_000, cancellationToken)).Select(e => e.Event).OfType<OrderPlaced>())
        {
            if (placed.Order != parent.Id && await store.FindAsync(placed.Order, cancellationToken) is { } later && later.UpsellOf == parent.Id && all.All(o => o.Id != later.Id))
            {
                all.Add(later);
            }
        }

        all.Sort((a, b) => a.PlacedAt.CompareTo(b.PlacedAt));
        var lines = new StringBuilder();
        Money total = Money.Zero(catalogue.Currency);
        foreach (Order o in all)
        {
            foreach (OrderLine line in o.Lines)
            {
                string name = catalogue.Offers.Single(x => x.Id == line.Offer).Name;
                lines.Append(CultureInfo.InvariantCulture, $"""<tr data-offer="{line.Offer}"><td>{Html.Encode(name)}</td><td class="num">{Html.Usd(line.Total)}</td></tr>""");
            }

            total += o.Paid;
        }

        string access = string.Concat(entitlements.Of(parent.Lead).Select(e => $"<li>{Html.Encode(catalogue.Products.Single(p => p.Key == e.Product).Name)}</li>"));
        string body = $"""
            <div class="card"><h1>Thank you — you're in!</h1><p>Your receipt:</p>
            <table>{lines}<tr><th>Paid today</th><th class="num" id="paid">{Html.Usd(total)}</th></tr></table>
            <h2 style="margin-top:1.5rem">Your access</h2><ul>{access}</ul>
            <p class="muted">Test mode: nothing was charged.</p></div>
            """;
        return Html.Page("Thank you", body, track: true);
    }

    private static async Task<IResult> AdminAsync(IFunnelEventLog log, IFunnelReporter reporter, ShopMailSettings mail, IWebhookEventStore webhooks, CancellationToken cancellationToken)
    {
        // The store lists are bounded: the count stops at 10,000.
        int webhooksProcessed = (await webhooks.ListAsync(WebhookEventStatus.Processed, 10_000, cancellationToken)).Length;
        // The shop reads its report from the event log (bounded here: a real app reports from its analytics store).
        FunnelEvent[] events = [.. (await log.ReadAsync(0, 1_000_000, cancellationToken)).Select(e => e.Event)];
        FunnelReport report = reporter.CreateReport(ShopFunnel.Definition, events);
        FunnelMetrics overall = report.Overall;
        var rows = new StringBuilder();
        foreach (StepResult step in overall.Steps)
        {
            rows.Append(CultureInfo.InvariantCulture, $"""<tr data-step="{step.Step.Key}"><td>{Html.Encode(step.Step.Name)}</td><td class="num" data-testid="reached-{step.Step.Key}">{step.Reached}</td><td class="num">{step.FromPrevious.ToString("P0", CultureInfo.InvariantCulture)}</td><td class="num">{step.FromStart.ToString("P0", CultureInfo.InvariantCulture)}</td></tr>""");
        }

        long Count(string type) => events.LongCount(e => e.EventType == type);
        string body = $"""
            <div class="card"><h1>Funnel report</h1><p class="muted">{events.Length} events recorded in memory since the shop started.</p>
            <div class="kpis">
              <div class="kpi">Orders<b data-testid="orders">{overall.Orders}</b></div>
              <div class="kpi">Customers<b data-testid="customers">{overall.Customers}</b></div>
              <div class="kpi">Revenue<b data-testid="revenue">{Html.Usd(overall.Revenue)}</b></div>
              <div class="kpi">Upsells &amp; downsells accepted<b data-testid="upsells-accepted">{Count(OfferEventTypes.UpsellAccepted)}</b></div>
              <div class="kpi">Upsells &amp; downsells declined<b data-testid="upsells-declined">{Count(OfferEventTypes.UpsellDeclined)}</b></div>
              <div class="kpi">Opt-ins<b data-testid="opt-ins">{Count(EventTypes.OptedIn)}</b></div>
              <div class="kpi">Opt-ins confirmed<b data-testid="confirmed">{Count(EventTypes.OptInConfirmed)}</b></div>
            </div></div>
            <div class="card"><h2>Email and payments</h2><div class="kpis">
              <div class="kpi">Emails sent<b data-testid="emails-sent">{Count(EventTypes.EmailSent)}</b></div>
              <div class="kpi">Emails failed<b data-testid="emails-failed">{Count(SequenceEventTypes.EmailFailed)}</b></div>
              <div class="kpi">Emails suppressed<b data-testid="emails-suppressed">{Count(SequenceEventTypes.EmailSuppressed)}</b></div>
              <div class="kpi">Opens<b data-testid="emails-opened">{Count(EventTypes.EmailOpened)}</b></div>
              <div class="kpi">Clicks<b data-testid="emails-clicked">{Count(EventTypes.EmailClicked)}</b></div>
              <div class="kpi">Unsubscribes<b data-testid="unsubscribes">{Count(EventTypes.EmailUnsubscribed)}</b></div>
              <div class="kpi">Payments<b data-testid="payments">{Count(EventTypes.PaymentSucceeded)}</b></div>
              <div class="kpi">Failed payments<b data-testid="payments-failed">{Count(EventTypes.PaymentFailed)}</b></div>
              <div class="kpi">Webhooks processed<b data-testid="webhooks-processed">{webhooksProcessed}</b></div>
            </div><p class="muted">{MailboxHint(mail)}</p></div>
            <div class="card"><h2>Funnel</h2>{FunnelChart.Svg(overall.Steps)}</div>
            <div class="card"><h2>Steps</h2><table><thead><tr><th>Step</th><th class="num">Reached</th><th class="num">From previous</th><th class="num">From start</th></tr></thead>
            <tbody>{rows}</tbody></table>
            <p class="muted">Checkouts started: <span data-testid="checkouts">{report.CheckoutsStarted}</span> · Cart abandonment: {report.CartAbandonmentRate.ToString("P0", CultureInfo.InvariantCulture)} · Average order value: {(overall.AverageOrderValue is { } aov ? Html.Usd(aov) : "–")}</p></div>
            """;
        return Html.Page("Admin", body);
    }

    private static async Task<IResult?> RejectForgeryAsync(HttpContext context, IAntiforgery antiforgery)
    {
        try
        {
            await antiforgery.ValidateRequestAsync(context);
            return null;
        }
        catch (AntiforgeryValidationException)
        {
            return Html.Error("Please try again", "The form expired or was not sent by this site. Reload the page and submit it again.", StatusCodes.Status400BadRequest);
        }
    }

    private static async Task<Order?> OwnOrderAsync(HttpContext context, string? order, IOrderStore store, FunnelAspNetCoreOptions options, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(order, out Guid id) || Visitor.Read(context, options) is not { } lead)
        {
            return null;
        }

        Order? found = await store.FindAsync(new OrderId(id), cancellationToken);
        return found is not null && found.Lead == lead && found.UpsellOf is null ? found : null;
    }

    private static async Task<DateTimeZone> ZoneOfAsync(ILeadStore leads, LeadId lead, CancellationToken cancellationToken)
    {
        LeadProfile? profile = await leads.FindAsync(lead, cancellationToken);
        return (profile?.TimeZoneId is { } tz ? DateTimeZoneProviders.Tzdb.GetZoneOrNull(tz) : null) ?? DateTimeZone.Utc;
    }

    private static IResult SeeOther(HttpContext context, string location)
    {
        context.Response.Headers.Location = location;
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }

    private static string PlanText(Offer offer) => offer.PaymentPlans.IsDefaultOrEmpty
        ? "one payment"
        : $"{offer.PaymentPlans[0].Installments} × {Html.Usd(offer.PaymentPlans[0].InstallmentAmount)} monthly";

    private static string Remaining(Duration left) =>
        string.Create(CultureInfo.InvariantCulture, $"{left.Days}d {left.Hours}h {left.Minutes}m {left.Seconds}s");

    private static string Describe(OrderRejection rejection) => rejection switch
    {
        OrderRejection.SoldOut => "This offer is sold out.",
        OrderRejection.DeadlinePassed => "The deadline of this offer has passed.",
        _ => $"The order was rejected ({rejection}).",
    };
}
