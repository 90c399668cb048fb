/**
 * MonitoringStack: the alarms that page operators and, through the composite
 * alarm `deployment-health-<suffix>`, fail a deployment that hurts production
 * (the root's deployment gate watches it; README.md, "How a bad deployment is rolled back").
 *
 * Alarm set and thresholds: docs/monitoring.md.
 */
import { TemplateBuilder, NestedStackDefinition } from '../../lib/template';
import { shared } from '../../lib/sharedParameters';
import { Fn, getAtt, not, equals, ref, sub, resourceName } from '../../lib/intrinsics';
import { Exports, GATED_ALARM_NAMES_OUTPUT, Names } from '../../contract/names';
import { kmsKey } from '../../lib/patterns';
import { MAX_CONNECTIONS_MAPPING, MonitoringParameters, SharedWithOtherStacks, maxConnectionsMapping } from './parameters';
import { ALARMS, COMPOSITE, GATING_ALARMS, TOPIC, alarmProperties, deploymentHealthRule } from './alarms';
import { DASHBOARD_NAME_PATTERN, dashboardBody } from './dashboard';

function build(): TemplateBuilder {
  const t = new TemplateBuilder('MonitoringStack', 'tap monitoring: alarm topic, alarms, the deployment-health composite alarm and the service dashboard.');
  t.parametersFrom({ ...shared('EnvironmentSuffix', 'EnvironmentType', 'CostCenter'), ...SharedWithOtherStacks, ...MonitoringParameters });
  t.mapping(MAX_CONNECTIONS_MAPPING, maxConnectionsMapping());
  const emailCondition = t.condition('EnableAlarmEmail', not(equals(ref('AlarmEmail'), '')));

  // Alarms publish to an encrypted topic only if CloudWatch may use its key; without
  // this statement they deploy cleanly and deliver nothing:
  // https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
  const key = kmsKey(t, 'AlarmTopicKey', {
    description: 'tap monitoring: encrypts the alarm topic',
    alias: Names.alarmTopic,
    services: [
      {
        principal: 'cloudwatch.amazonaws.com',
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
      },
    ],
  });
  t.resource(
    TOPIC,
    'AWS::SNS::Topic',
    {
      TopicName: resourceName(Names.alarmTopic),
      DisplayName: 'tap alarms',
      KmsMasterKeyId: key.arn,
    },
  );
  t.resource(
    'AlarmTopicPolicy',
    'AWS::SNS::TopicPolicy',
    {
      Topics: [ref(TOPIC)],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'CloudWatchAlarmsOfThisAccount',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: ref(TOPIC),
            Condition: {
              StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
              ArnLike: { 'aws:SourceArn': sub('arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*') },
            },
          },
          {
            Sid: 'DenyInsecureTransport',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Resource: ref(TOPIC),
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      },
    },
  );
  t.resource('AlarmEmailSubscription', 'AWS::SNS::Subscription', { TopicArn: ref(TOPIC), Protocol: 'email', Endpoint: ref('AlarmEmail') }, {
    condition: emailCondition,
  });

  for (const a of ALARMS) t.resource(a.id, 'AWS::CloudWatch::Alarm', alarmProperties(a));

  t.resource(
    COMPOSITE,
    'AWS::CloudWatch::CompositeAlarm',
    {
      AlarmName: resourceName(Names.deploymentHealthAlarm),
      AlarmDescription: 'Any alarm that should stop a deployment. The deployment gate fails an update while this is in ALARM, which rolls the root stack back.',
      AlarmRule: sub(deploymentHealthRule(GATING_ALARMS)),
      AlarmActions: [ref(TOPIC)],
    },
  );

  t.resource('Dashboard', 'AWS::CloudWatch::Dashboard', { DashboardName: sub(DASHBOARD_NAME_PATTERN), DashboardBody: dashboardBody() });

  const e = Exports.monitoring;
  t.export(e.alarmTopicArn, ref(TOPIC), { description: 'SNS topic every tap alarm notifies' });
  t.export(e.deploymentHealthAlarmName, ref(COMPOSITE), { description: 'Composite alarm the deployment gate watches' });
  t.export(e.deploymentHealthAlarmArn, getAtt(COMPOSITE, 'Arn'), { description: 'ARN of the deployment-health composite alarm' });
  for (const a of ALARMS) {
    t.export(a.exportKeys.name, ref(a.id), { description: `Name of the ${a.purpose} alarm` });
    t.export(a.exportKeys.arn, getAtt(a.id, 'Arn'), { description: `ARN of the ${a.purpose} alarm` });
  }
  // For the gate's AlarmNames (Fn::Split in the root): the composite, then its members,
  // so a FAILED answer names the member alarm that fired and its reason.
  t.output(GATED_ALARM_NAMES_OUTPUT, Fn.Join(',', [ref(COMPOSITE), ...GATING_ALARMS.map((a) => ref(a.id))]), {
    description: 'Comma-separated names of the deployment-health alarm and its member alarms',
  });
  return t;
}

export const MonitoringStack: NestedStackDefinition = { templateName: 'MonitoringStack', build };
