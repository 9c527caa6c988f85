// A minimal SCIM 2.0 server on SCIMMY + scimmy-routers (Express 4), kept in memory.
// SCIMMY parses, validates and formats every resource; scimmy-routers serves the endpoints
// (Users, Groups, Schemas, ResourceTypes, ServiceProviderConfig, /.search, /Bulk, /Me).
// This file only supplies what SCIMMY leaves to its user: the store (ingress/egress/degress)
// and the bearer-token check.
//
//   SCIM_TOKEN=secret PORT=8080 node server.js     -> http://127.0.0.1:8080/scim/v2
import {randomUUID} from "node:crypto";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const TOKEN = process.env.SCIM_TOKEN;
const PORT = Number(process.env.PORT ?? 8080);
if (!TOKEN) {
    console.error("set SCIM_TOKEN to the bearer token clients must send");
    process.exit(2);
}

// One Map per resource type: id -> the resource as SCIMMY handed it to ingress, plus id and meta.
function memoryStore(uniqueAttr) {
    const items = new Map();
    const notFound = (id) => new SCIMMY.Types.Error(404, null, `Resource ${id} not found`);

    return {
        ingress(resource, instance) {
            const id = resource.id ?? randomUUID();
            const existing = items.get(id);
            if (resource.id && !existing) throw notFound(id);

            // The schema marks userName "uniqueness: server"; SCIMMY leaves enforcing it to the store.
            if (uniqueAttr) {
                const wanted = String(instance[uniqueAttr]).toLowerCase();
                for (const [otherId, other] of items)
                    if (otherId !== id && String(other[uniqueAttr]).toLowerCase() === wanted)
                        throw new SCIMMY.Types.Error(409, "uniqueness", `${uniqueAttr} '${instance[uniqueAttr]}' already exists`);
            }

            const now = new Date().toISOString();
            const stored = {
                ...JSON.parse(JSON.stringify(instance)),
                id,
                meta: {created: existing?.meta.created ?? now, lastModified: now},
            };
            items.set(id, stored);
            return stored;
        },
        egress(resource) {
            if (resource.id) {
                const item = items.get(resource.id);
                if (!item) throw notFound(resource.id);
                return item;
            }
            const all = [...items.values()];
            // SCIMMY's own filter evaluation; sorting and paging are done by its ListResponse.
            return resource.filter ? resource.filter.match(all) : all;
        },
        degress(resource) {
            if (!items.delete(resource.id)) throw notFound(resource.id);
        },
    };
}

SCIMMY.Resources.declare(SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false),
    memoryStore("userName"));
SCIMMY.Resources.declare(SCIMMY.Resources.Group, memoryStore());

const app = express();
app.use("/scim/v2", new SCIMMYRouters({
    type: "bearer",
    handler: (request) => {
        if (request.header("Authorization") !== `Bearer ${TOKEN}`) throw new Error("Invalid or missing bearer token");
        return "scim-client";
    },
    // meta.location as an absolute URI (the default is a path relative to the host)
    baseUri: (request) => `${request.protocol}://${request.get("host")}`,
}));

app.listen(PORT, "127.0.0.1", () => console.log(`scimmy peer on http://127.0.0.1:${PORT}/scim/v2`));
