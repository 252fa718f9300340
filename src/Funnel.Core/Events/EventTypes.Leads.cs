namespace Funnel.Events;

/// <content>The event types of lead capture, scoring and segments (<c>Funnel.Leads</c>).</content>
public static partial class EventTypes
{
    /// <summary>A lead's consent was recorded (<see cref="Leads.ConsentRecorded"/>).</summary>
    public const string ConsentRecorded = "consent_recorded";

    /// <summary>A lead confirmed a double opt-in (<see cref="Leads.OptInConfirmed"/>).</summary>
    public const string OptInConfirmed = "opt_in_confirmed";

    /// <summary>A double opt-in confirmation email was requested (<see cref="Leads.ConfirmationRequested"/>).</summary>
    public const string ConfirmationRequested = "confirmation_requested";

    /// <summary>A lead's opt-in is complete and their lead magnet is to be mailed (<see cref="Leads.LeadMagnetDeliveryRequested"/>).</summary>
    public const string MagnetDeliveryRequested = "magnet_delivery_requested";

    /// <summary>A lead downloaded their lead magnet through its signed link (<see cref="Leads.LeadMagnetDownloaded"/>).</summary>
    public const string MagnetDownloaded = "magnet_downloaded";

    /// <summary>An anonymous visitor id was linked to a lead with another id (<see cref="Leads.IdentityLinked"/>).</summary>
    public const string IdentityLinked = "identity_linked";

    /// <summary>A lead's score changed (<see cref="Leads.ScoreChanged"/>).</summary>
    public const string ScoreChanged = "score_changed";

    /// <summary>A lead entered a segment (<see cref="Leads.SegmentEntered"/>).</summary>
    public const string SegmentEntered = "segment_entered";

    /// <summary>A lead left a segment (<see cref="Leads.SegmentLeft"/>).</summary>
    public const string SegmentLeft = "segment_left";

    /// <summary>A tag was added to a lead (<see cref="Leads.LeadTagged"/>).</summary>
    public const string LeadTagged = "lead_tagged";

    /// <summary>A tag was removed from a lead (<see cref="Leads.LeadUntagged"/>).</summary>
    public const string LeadUntagged = "lead_untagged";

    /// <summary>Points were added to (or taken from) a lead's score (<see cref="Leads.ScoreAdjusted"/>).</summary>
    public const string ScoreAdjusted = "score_adjusted";

    /// <summary>A lead was moved forward to a lifecycle stage by an explicit action (<see cref="Leads.LifecycleStageSet"/>).</summary>
    public const string LifecycleStageSet = "lifecycle_stage_set";
}
