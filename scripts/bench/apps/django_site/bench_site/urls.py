from django.urls import path

from items.views import item_list

urlpatterns = [path("items/", item_list)]
