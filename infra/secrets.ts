// Set per stage with `npx sst secret set AdminToken <value>`; read in handlers via Resource.AdminToken.
export const adminToken = new sst.Secret("AdminToken");
