from __future__ import annotations

from django.urls import path

from breakglass import review_views

urlpatterns = [
    path("reviews/", review_views.review_inbox, name="review_inbox"),
    path("reviews/items/<uuid:uuid>/decide/", review_views.review_item_decide, name="review_item_decide"),
    path("reviews/campaigns/", review_views.campaign_list, name="review_campaign_list"),
    path("reviews/campaigns/new/", review_views.campaign_start, name="review_campaign_start"),
    path("reviews/campaigns/<uuid:uuid>/", review_views.campaign_detail, name="review_campaign_detail"),
]
