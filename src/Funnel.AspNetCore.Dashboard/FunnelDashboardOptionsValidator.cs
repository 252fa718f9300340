using FluentValidation;
using Microsoft.Extensions.Hosting;

namespace Funnel.AspNetCore.Dashboard;

/// <summary>Checks <see cref="FunnelDashboardOptions"/>; the policy rule depends on the host environment.</summary>
internal sealed class FunnelDashboardOptionsValidator : AbstractValidator<FunnelDashboardOptions>
{
    public FunnelDashboardOptionsValidator(IHostEnvironment environment)
    {
        RuleFor(o => o.AuthorizationPolicy)
            .NotEmpty()
            .Unless(o => o.AllowAnonymousInDevelopment && environment.IsDevelopment())
            .WithMessage("Set an authorization policy for the dashboard, such as o.AuthorizationPolicy = \"funnel-admin\" "
                + "after services.AddAuthorization(a => a.AddPolicy(\"funnel-admin\", ...)); anonymous access is allowed only "
                + "in Development with AllowAnonymousInDevelopment.");
        RuleFor(o => o.PageSize).InclusiveBetween(1, 1_000);
        RuleFor(o => o.MaxReportEvents).GreaterThanOrEqualTo(1);
        RuleFor(o => o.ExperimentGoal).NotEmpty();
        RuleFor(o => o.FiguresWait).InclusiveBetween(TimeSpan.Zero, TimeSpan.FromMinutes(1));
    }
}
