// tap: the Pulumi program. It only reads configuration and wires components
// (see components/); the templates it deploys are generated in cfn/.
export {};
